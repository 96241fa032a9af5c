"""Ids of the study core taken from URL paths (see :func:`aksio.ids.path_id`)."""

from __future__ import annotations

from aksio.ids import path_id


def deck_id(value: str) -> str:
    return path_id(value, "deck")


def card_id(value: str) -> str:
    return path_id(value, "card")


def review_id(value: str) -> str:
    return path_id(value, "review")
