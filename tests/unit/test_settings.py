"""User settings: defaults, partial changes, bounds, and tolerant reading of stored data."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aksio.settings import Settings, SettingsPatch, apply, from_stored


def test_defaults_are_ankis_and_fsrs() -> None:
    s = Settings()
    assert (s.new_cards_per_day, s.reviews_per_day, s.day_starts_at_hour) == (20, 200, 4)
    assert (s.learning_steps_minutes, s.relearning_steps_minutes) == ([1.0, 10.0], [10.0])
    assert (s.leech_threshold, s.leech_action, s.desired_retention) == (8, "tag", 0.9)


def test_patch_changes_only_what_was_sent_including_explicit_null() -> None:
    current = Settings(timezone="Europe/Oslo", new_cards_per_day=5)
    patch = SettingsPatch.model_validate({"reminderHour": None, "desiredRetention": 0.85})
    after = apply(current, patch)
    assert after.reminder_hour is None
    assert after.desired_retention == 0.85
    assert (after.timezone, after.new_cards_per_day) == ("Europe/Oslo", 5)


@pytest.mark.parametrize(
    "body",
    [
        {"desiredRetention": 0.69},
        {"desiredRetention": 0.98},
        {"timezone": "Mars/Olympus_Mons"},
        {"reminderHour": 24},
        {"newCardsPerDay": -1},
        {"learningStepsMinutes": [0]},
        {"leechAction": "delete"},
        {"unknownSetting": True},
    ],
)
def test_out_of_bounds_values_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SettingsPatch.model_validate(body)


def test_stored_values_round_trip_and_bad_ones_fall_back() -> None:
    stored = Settings(timezone="Asia/Tokyo", leech_action="suspend").to_stored()
    assert stored["leechAction"] == "suspend"
    assert from_stored(stored) == Settings(timezone="Asia/Tokyo", leech_action="suspend")
    broken = stored | {"timezone": "Nowhere/At_All", "reviewsPerDay": "many"}
    recovered = from_stored(broken)
    assert (recovered.timezone, recovered.reviews_per_day, recovered.leech_action) == ("UTC", 200, "suspend")
