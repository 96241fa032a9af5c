"""A user's study settings: what they are, their defaults, and how a change applies.

Defaults are Anki's where Anki has one (20 new cards and 200 reviews a day, the next day
starting at 4 am, leeches at 8 lapses tagged, not suspended, learning steps 1m 10m,
relearning 10m) and FSRS's otherwise (desired retention 0.9, maximum interval 36500 days).
Pure: no I/O.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field, ValidationError, field_validator

from aksio.schema import ApiModel, NotNull, RequestModel, invalid_input

StepMinutes = Annotated[float, Field(gt=0, le=60 * 24 * 30)]


def _check_timezone(value: str) -> str:
    if value not in _zones():
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


@cache
def _zones() -> set[str]:
    return available_timezones()


Timezone = Annotated[str, Field(description="An IANA time zone", examples=["Europe/Berlin", "UTC"])]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
QuietDays = Annotated[
    list[Weekday],
    Field(max_length=7, description="Study days without a reminder (by the study day's weekday)."),
]
EasyDays = Annotated[
    list[Weekday],
    Field(
        max_length=7,
        description="Light weekdays: reviews are scheduled so that they hold about half of a normal day's load.",
    ),
]


def _unique_days(value: list[str] | None) -> list[str] | None:
    if value is not None and len(set(value)) != len(value):
        raise ValueError("each day at most once")
    return value


class Settings(ApiModel):
    timezone: Timezone = "UTC"
    reminder_hour: Annotated[int, Field(ge=0, le=23)] | None = 18
    reminders_enabled: bool = True
    quiet_days: QuietDays = Field(default_factory=list)
    day_starts_at_hour: Annotated[int, Field(ge=0, le=23)] = 4
    new_cards_per_day: Annotated[int, Field(ge=0, le=9999)] = 20
    reviews_per_day: Annotated[int, Field(ge=0, le=99999)] = 200
    desired_retention: Annotated[float, Field(ge=0.70, le=0.97)] = 0.9
    learning_steps_minutes: Annotated[list[StepMinutes], Field(max_length=10)] = Field(
        default_factory=lambda: [1.0, 10.0]
    )
    relearning_steps_minutes: Annotated[list[StepMinutes], Field(max_length=10)] = Field(default_factory=lambda: [10.0])
    maximum_interval_days: Annotated[int, Field(ge=1, le=36500)] = 36500
    leech_threshold: Annotated[int, Field(ge=1, le=99)] = 8
    leech_action: Literal["tag", "suspend"] = "tag"
    bury_new_siblings: bool = False
    bury_review_siblings: bool = False
    draft_generated_cards: bool = False
    load_balancing: bool = True
    easy_days: EasyDays = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("quiet_days", "easy_days")
    @classmethod
    def _quiet_days(cls, value: list[str]) -> list[str]:
        return _unique_days(value) or []

    def to_stored(self) -> dict[str, object]:
        """The map kept in Firestore (camelCase, like the API)."""
        return self.model_dump(mode="json", by_alias=True)


class SettingsPatch(RequestModel):
    """A partial change of settings: only the fields sent change. ``reminderHour: null``
    turns the reminder off; no other setting may be sent as null (400)."""

    timezone: NotNull[Timezone] = None
    reminder_hour: Annotated[int, Field(ge=0, le=23)] | None = None
    reminders_enabled: NotNull[bool] = None
    quiet_days: NotNull[QuietDays] = None
    day_starts_at_hour: NotNull[Annotated[int, Field(ge=0, le=23)]] = None
    new_cards_per_day: NotNull[Annotated[int, Field(ge=0, le=9999)]] = None
    reviews_per_day: NotNull[Annotated[int, Field(ge=0, le=99999)]] = None
    desired_retention: NotNull[Annotated[float, Field(ge=0.70, le=0.97)]] = None
    learning_steps_minutes: NotNull[Annotated[list[StepMinutes], Field(max_length=10)]] = None
    relearning_steps_minutes: NotNull[Annotated[list[StepMinutes], Field(max_length=10)]] = None
    maximum_interval_days: NotNull[Annotated[int, Field(ge=1, le=36500)]] = None
    leech_threshold: NotNull[Annotated[int, Field(ge=1, le=99)]] = None
    leech_action: NotNull[Literal["tag", "suspend"]] = None
    bury_new_siblings: NotNull[bool] = None
    bury_review_siblings: NotNull[bool] = None
    draft_generated_cards: NotNull[bool] = None
    load_balancing: NotNull[bool] = None
    easy_days: NotNull[EasyDays] = None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else _check_timezone(value)

    @field_validator("quiet_days", "easy_days")
    @classmethod
    def _quiet_days(cls, value: list[str] | None) -> list[str] | None:
        return _unique_days(value)

    def changes(self) -> dict[str, object]:
        """The fields the client sent, by Python name (``reminderHour: null`` included)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def apply(current: Settings, patch: SettingsPatch, *, at: tuple[str, ...] = ()) -> Settings:
    """The settings after ``patch``, validated as a whole: a 400 naming the fields (under
    ``at``, where the patch sits in the request body) if the result is not valid settings."""
    merged = current.model_dump(by_alias=False) | patch.changes()
    try:
        return Settings.model_validate({Settings.model_fields[k].alias or k: v for k, v in merged.items()})
    except ValidationError as exc:
        raise invalid_input(exc, "body", prefix=at) from None


def from_stored(data: dict[str, object] | None) -> Settings:
    """Settings from a stored (camelCase) map; missing or invalid values take their defaults."""
    defaults = Settings()
    if not data:
        return defaults
    values = defaults.model_dump(by_alias=False)
    for name, info in Settings.model_fields.items():
        key = info.alias or name
        if key in data:
            candidate = values | {name: data[key]}
            try:
                Settings.model_validate(candidate)
            except ValueError:
                continue
            values = candidate
    return Settings.model_validate(values)


def of_user(user: dict[str, object] | None) -> Settings:
    """The study settings stored in a user document (defaults where unset)."""
    stored = (user or {}).get("settings")
    return from_stored(stored if isinstance(stored, dict) else None)
