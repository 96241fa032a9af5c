"""The pydantic-free settings reader (:mod:`aksio.prefs`) against the model it stands in for."""

from __future__ import annotations

import random
from dataclasses import fields
from typing import Any

from aksio import prefs
from aksio import settings as model


def test_fields_defaults_and_bounds_are_the_models() -> None:
    assert [f.name for f in fields(prefs.StudySettings)] == list(model.Settings.model_fields)
    assert prefs.StudySettings() == prefs.StudySettings(**model.Settings().model_dump(by_alias=False))
    schema = model.Settings.model_json_schema()["properties"]
    for name, (low, high) in prefs.BOUNDS.items():
        prop = schema[model.Settings.model_fields[name].alias or name]
        part = next(p for p in [prop, *prop.get("anyOf", [])] if "minimum" in p)
        assert (part["minimum"], part["maximum"]) == (low, high), name
    assert set(schema["leechAction"]["enum"]) == set(prefs.LEECH_ACTIONS)
    days = schema["quietDays"]["items"]
    assert set(
        days.get("enum") or model.Settings.model_json_schema()["$defs"][days["$ref"].split("/")[-1]]["enum"]
    ) == set(prefs.WEEKDAYS)


def test_the_view_is_the_models_dump() -> None:
    for stored in [None, {"reminderHour": None, "timezone": "Europe/Oslo"}, {"learningStepsMinutes": [2, 5.5]}]:
        expected = model.from_stored(stored).model_dump(mode="json", by_alias=True, exclude_none=True)
        assert prefs.from_stored(stored).view() == expected


CANDIDATES: dict[str, list[Any]] = {
    "timezone": ["UTC", "Europe/Oslo", "America/New_York", "Mars/Base", "", 5, None, "../etc/passwd"],
    "reminderHour": [0, 23, 24, -1, None, "18", 18.0, True, 7],
    "remindersEnabled": [True, False, 1, "no", None],
    "quietDays": [
        [],
        ["sat", "sun"],
        ["sun", "sun"],
        ["Sunday"],
        "sat",
        None,
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    ],
    "dayStartsAtHour": [0, 4, 23, 24, "4", None, False],
    "newCardsPerDay": [0, 20, 9999, 10000, -5, 20.0, "x"],
    "reviewsPerDay": [0, 200, 99999, 100000],
    "desiredRetention": [0.7, 0.9, 0.97, 0.98, 0.5, 1, "0.9", None],
    "learningStepsMinutes": [[1, 10], [1.5], [], [0], [43200], [43201], ["1"], list(range(1, 12)), "1m", None],
    "relearningStepsMinutes": [[10], [True], [5, 5]],
    "maximumIntervalDays": [1, 36500, 0, 36501],
    "leechThreshold": [1, 8, 99, 100, 0],
    "leechAction": ["tag", "suspend", "delete", None],
    "buryNewSiblings": [True, False, 1, "true", None],
    "buryReviewSiblings": [True, 0],
    "draftGeneratedCards": [False, "yes"],
    "unknownKey": [1],
}


def test_both_readings_agree_on_random_stored_maps() -> None:
    rng = random.Random(11)
    fast_paths = 0
    for _ in range(600):
        keys = rng.sample(list(CANDIDATES), rng.randint(0, 6))
        stored = {k: rng.choice(CANDIDATES[k]) for k in keys}
        expected = prefs.StudySettings(**model.from_stored(stored).model_dump(by_alias=False))
        assert prefs.from_stored(stored) == expected, stored
        fast_paths += all(
            prefs._plain(prefs._ALIASES[k], v) is not ... for k, v in stored.items() if k in prefs._ALIASES
        )
    assert fast_paths > 50  # the fast path is exercised, not only the model's
