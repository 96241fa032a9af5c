"""A user's study settings as the study code reads them, without pydantic (cold start).

:class:`aksio.settings.Settings` (pydantic) is the contract: the API's shape, its bounds,
and how a stored map with invalid values is read (each invalid value takes its default).
:func:`of_user` gives the same values as a plain :class:`StudySettings`: when every stored
value is plainly valid (the right type, within the bounds) it takes them as they are;
otherwise it asks the pydantic model, so what it returns is always the model's reading.
``tests/unit/test_prefs.py`` checks the fields, defaults and bounds against the model and the
two readings against each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STEP_MAX_MINUTES = 60 * 24 * 30


@dataclass(frozen=True)
class StudySettings:
    timezone: str = "UTC"
    reminder_hour: int | None = 18
    reminders_enabled: bool = True
    quiet_days: list[str] = field(default_factory=list)
    day_starts_at_hour: int = 4
    new_cards_per_day: int = 20
    reviews_per_day: int = 200
    desired_retention: float = 0.9
    learning_steps_minutes: list[float] = field(default_factory=lambda: [1.0, 10.0])
    relearning_steps_minutes: list[float] = field(default_factory=lambda: [10.0])
    maximum_interval_days: int = 36500
    leech_threshold: int = 8
    leech_action: str = "tag"
    bury_new_siblings: bool = False
    bury_review_siblings: bool = False
    draft_generated_cards: bool = False
    load_balancing: bool = True
    easy_days: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        """The API's form (camelCase, no nulls), as the model dumps it."""
        return {_camel(k): v for k, v in asdict(self).items() if v is not None}


# Bounds of the integer and float fields (inclusive), as aksio.settings.Settings declares them.
BOUNDS: dict[str, tuple[float, float]] = {
    "reminder_hour": (0, 23),
    "day_starts_at_hour": (0, 23),
    "new_cards_per_day": (0, 9999),
    "reviews_per_day": (0, 99999),
    "desired_retention": (0.70, 0.97),
    "maximum_interval_days": (1, 36500),
    "leech_threshold": (1, 99),
}
LEECH_ACTIONS = ("tag", "suspend")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NAMES = {f: f for f in StudySettings.__dataclass_fields__}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


_ALIASES = {_camel(name): name for name in _NAMES}


def _number(value: Any, *, integer: bool) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if integer else isinstance(value, int | float)


def _plain_number(name: str, value: Any) -> Any:
    low, high = BOUNDS[name]
    integer = name != "desired_retention"
    if value is None and name == "reminder_hour":
        return None
    if not _number(value, integer=integer) or not low <= value <= high:
        return ...
    return value if integer else float(value)


def _plain_steps(value: Any) -> Any:
    if not isinstance(value, list) or len(value) > 10:
        return ...
    if not all(_number(v, integer=False) and 0 < v <= STEP_MAX_MINUTES for v in value):
        return ...
    return [float(v) for v in value]


def _plain(name: str, value: Any) -> Any:
    """The value when it is plainly valid for ``name``, else ``...`` (the model decides)."""
    if name in BOUNDS:
        return _plain_number(name, value)
    if name.endswith("_steps_minutes"):
        return _plain_steps(value)
    if name in ("quiet_days", "easy_days"):
        plain = isinstance(value, list) and len(set(value)) == len(value) and all(v in WEEKDAYS for v in value)
        return list(value) if plain else ...
    if name == "timezone":
        ok = isinstance(value, str) and _zone_ok(value)
    elif name == "leech_action":
        ok = value in LEECH_ACTIONS
    else:  # the booleans
        ok = isinstance(value, bool)
    return value if ok else ...


def _zone_ok(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return True


def from_stored(data: dict[str, Any] | None) -> StudySettings:
    """The settings a stored (camelCase) map means; the model's reading when any value is not plain."""
    values: dict[str, Any] = {}
    for key, value in (data or {}).items():
        name = _ALIASES.get(key)
        if name is None:
            continue  # not a setting (the model ignores it too)
        plain = _plain(name, value)
        if plain is ...:
            from aksio import settings as model

            return StudySettings(**model.from_stored(data).model_dump(by_alias=False))
        values[name] = plain
    return StudySettings(**values)


def of_user(user: dict[str, Any] | None) -> StudySettings:
    """The study settings stored in a user document (defaults where unset)."""
    stored = (user or {}).get("settings")
    return from_stored(stored if isinstance(stored, dict) else None)
