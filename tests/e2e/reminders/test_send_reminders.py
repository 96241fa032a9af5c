"""send-reminders as Cloud Scheduler drives it, with pushes through the FCM v1 peer.

Runs are fired through the stack's scheduler at chosen instants (``/_test/run``), so a week
passes in seconds: users in four time zones get exactly one reminder on each study day with
cards due, none on the others, at their local hour, across Oslo's DST days.

The simulated days lie before the stack's real clock (2026), and each student's first
reminder instant is set to the simulation's start: every other user of the suite has a
reminder instant after the real now, so the simulated runs see the students and no one else.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from google.cloud.firestore_v1.base_query import FieldFilter

from aksio.study.model import Content, Schedule, new_card
from tests.conftest import ApiClient, User, need_env

pytestmark = pytest.mark.stack


class Peers:
    def __init__(self) -> None:
        env = need_env("SCHEDULER_URL", "FCM_API_BASE")
        self.scheduler, self.fcm = env["SCHEDULER_URL"], env["FCM_API_BASE"]

    def run(self, at: datetime) -> dict[str, Any]:
        body = {"job": "send-reminders", "at": at.isoformat().replace("+00:00", "Z"), "retries": 0}
        r = requests.post(f"{self.scheduler}/_test/run", json=body, timeout=120)
        r.raise_for_status()
        run = r.json()
        assert run["status"] == 200, run
        result: dict[str, Any] = run["json"]
        return result

    def messages(self, token: str) -> list[dict[str, Any]]:
        r = requests.get(f"{self.fcm}/_test/messages", params={"token": token}, timeout=10)
        r.raise_for_status()
        out: list[dict[str, Any]] = r.json()["messages"]
        return out

    def requests(self, token: str) -> list[dict[str, Any]]:
        r = requests.get(f"{self.fcm}/_test/requests", timeout=10)
        r.raise_for_status()
        return [x for x in r.json()["requests"] if x["token"] == token]

    def fail(self, token: str, error: str, count: int) -> None:
        requests.post(f"{self.fcm}/_test/tokens/{token}", json={"error": error, "count": count}, timeout=10)


@pytest.fixture(scope="module")
def peers() -> Peers:
    return Peers()


class Student:
    """A user with settings, one device, and cards whose due times the test sets."""

    def __init__(self, gateway: str, user: User, db: Any, start: datetime, **settings: Any) -> None:
        self.api = ApiClient(gateway, user, requests.Session())
        self.db, self.uid = db, user.uid
        self.token = f"tok-{uuid.uuid4().hex}"
        self.zone = ZoneInfo(settings.get("timezone", "UTC"))
        self.deck = self.api.ok("POST", "/decks", 201, json={"name": "Cell biology"})["id"]
        first = self.api.ok("POST", "/cards", 201, json={"deckId": self.deck, "front": "ATP?", "back": "energy"})
        card = first["cards"][0]["id"]
        self.api.ok("POST", "/review-card", json={"cardId": card, "rating": 3, "reviewId": uuid.uuid4().hex})
        self.api.ok("PATCH", "/account", json={"settings": settings})
        self.api.ok("POST", "/notifications/devices", 201, json={"token": self.token, "platform": "android"})
        self.study(datetime(2100, 1, 1, tzinfo=UTC))  # the first card is not part of the simulation
        db.collection("users").document(self.uid).update({"nextReminderAt": start})

    def cards_due(self, *instants: datetime) -> None:
        col = self.db.collection("users").document(self.uid).collection("cards")
        for n, at in enumerate(instants):
            cid, doc = new_card(self.deck, Content(front=f"q{n} {at}", back="a"), note=None, tags=[], now=at)
            col.document(cid).set(doc | Schedule(state="review", due=at, stability=3.0, difficulty=5.0).to_stored())

    def study(self, now: datetime) -> None:
        """Review every card due by ``now``: it is next due long after the simulation."""
        col = self.db.collection("users").document(self.uid).collection("cards")
        for snap in col.where(filter=FieldFilter("queue", "in", ["learning", "review"])).stream():
            if snap.to_dict()["due"] <= now:
                snap.reference.update({"due": datetime(2200, 1, 1, tzinfo=UTC)})

    def reminders(self) -> list[datetime]:
        col = self.db.collection("users").document(self.uid).collection("notifications")
        return sorted(s.to_dict()["createdAt"] for s in col.stream())


def local_noon(zone: ZoneInfo, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=zone).astimezone(UTC)


def simulate(peers: Peers, students: list[Student], start: datetime, hours: int) -> None:
    """Hourly runs; a student studies right after each reminder they get."""
    seen = {id(s): 0 for s in students}
    for h in range(hours):
        now = start + timedelta(hours=h)
        if not peers.run(now)["reminded"]:
            continue
        for s in students:
            count = len(s.reminders())
            if count > seen[id(s)]:
                seen[id(s)] = count
                s.study(now)


def test_a_week_in_four_time_zones_one_reminder_per_study_day_with_cards_due(
    gateway_url: str, new_user: Any, firestore_db: Any, peers: Peers
) -> None:
    week = [date(2026, 3, 25) + timedelta(days=i) for i in range(7)]  # Oslo springs forward on the 29th
    due_days = [week[i] for i in (0, 1, 3, 4, 6)]  # nothing due on the 27th and the 30th
    start = datetime(2026, 3, 24, 10, tzinfo=UTC)

    def student(zone: str, hour: int, day_starts: int) -> Student:
        settings = {"timezone": zone, "reminderHour": hour, "dayStartsAtHour": day_starts}
        return Student(gateway_url, new_user(), firestore_db, start, **settings)

    students = {
        "tonga": (student("Pacific/Tongatapu", 8, 0), 8),  # UTC+13
        "honolulu": (student("Pacific/Honolulu", 19, 0), 19),  # UTC-10
        "new_york": (student("America/New_York", 2, 4), 2),  # 2 am still belongs to the study day before
        "oslo": (student("Europe/Oslo", 2, 0), 2),  # 02:00 does not exist on the 29th
    }
    for s, _ in students.values():
        s.cards_due(*[local_noon(s.zone, d) - timedelta(hours=11) for d in due_days])  # 01:00 local
    simulate(peers, [s for s, _ in students.values()], start, 8 * 24)

    for name, (s, hour) in students.items():
        local = [t.astimezone(s.zone) for t in s.reminders()]
        assert [t.date() for t in local] == due_days, name  # one a day, on the days with cards due only
        assert len(peers.messages(s.token)) == len(due_days), name
        for t in local:
            if name == "oslo" and t.date() == date(2026, 3, 29):
                assert (t.hour, t.utcoffset()) == (3, timedelta(hours=2)), "the next valid instant: 03:00 CEST"
            else:
                assert (t.hour, t.minute) == (hour, 0), (name, t)


def test_on_the_fall_back_day_the_repeated_hour_reminds_once(
    gateway_url: str, new_user: Any, firestore_db: Any, peers: Peers
) -> None:
    start = datetime(2026, 10, 24, 22, tzinfo=UTC)
    s = Student(gateway_url, new_user(), firestore_db, start, timezone="Europe/Oslo", reminderHour=2, dayStartsAtHour=0)
    s.cards_due(datetime(2026, 10, 24, 22, 30, tzinfo=UTC))  # 00:30 CEST on the 25th: nothing due on the 24th
    for h in range(6):  # 22:00Z on the 24th to 03:00Z on the 25th: 02:00 CEST, then 02:00 CET an hour later
        peers.run(start + timedelta(hours=h))
    assert s.reminders() == [datetime(2026, 10, 25, 0, tzinfo=UTC)]  # 02:00 CEST, once
    assert len(peers.messages(s.token)) == 1


def test_five_overlapping_runs_of_one_slot_push_once(
    gateway_url: str, new_user: Any, firestore_db: Any, peers: Peers
) -> None:
    at = datetime(2026, 5, 4, 9, tzinfo=UTC)
    s = Student(gateway_url, new_user(), firestore_db, at, timezone="UTC", reminderHour=9, dayStartsAtHour=0)
    s.cards_due(datetime(2026, 5, 4, 6, tzinfo=UTC), datetime(2026, 5, 4, 7, tzinfo=UTC))
    with ThreadPoolExecutor(5) as pool:
        reports = list(pool.map(lambda _: peers.run(at), range(5)))
    assert sum(r["reminded"] for r in reports) >= 1
    assert len(peers.messages(s.token)) == 1
    assert s.reminders() == [at]
    [message] = peers.messages(s.token)
    assert message["message"]["notification"]["title"] == "2 cards due in Cell biology"


def test_a_dead_token_is_removed_and_an_unavailable_fcm_is_retried(
    gateway_url: str, new_user: Any, firestore_db: Any, peers: Peers
) -> None:
    at = datetime(2026, 6, 8, 9, tzinfo=UTC)
    s = Student(gateway_url, new_user(), firestore_db, at, timezone="UTC", reminderHour=9, dayStartsAtHour=0)
    dead = f"tok-{uuid.uuid4().hex}"
    s.api.ok("POST", "/notifications/devices", 201, json={"token": dead, "platform": "ios"})
    peers.fail(dead, "UNREGISTERED", -1)
    peers.fail(s.token, "UNAVAILABLE", 1)  # the first send fails with a 503, the retry goes through
    s.cards_due(datetime(2026, 6, 8, 6, tzinfo=UTC))
    report = peers.run(at)
    assert report["pushes"]["gone"] >= 1
    assert [r["status"] for r in peers.requests(s.token)] == [503, 200]  # retried within the run
    assert len(peers.messages(s.token)) == 1
    assert [d["platform"] for d in s.api.ok("GET", "/notifications/devices")["devices"]] == ["android"]


def test_only_the_scheduler_may_run_it(gateway_url: str) -> None:
    r = requests.post(f"{gateway_url}/send-reminders", json={}, timeout=10)
    assert r.status_code == 401
    assert os.environ.get("TASKS_AUTH_SECRET")
    bad = requests.post(f"{gateway_url}/send-reminders", json={}, headers={"X-Aksio-Task-Secret": "nope"}, timeout=10)
    assert bad.status_code == 401


def test_quiet_days_and_turning_reminders_off(gateway_url: str, new_user: Any, firestore_db: Any, peers: Peers) -> None:
    start = datetime(2026, 4, 4, 0, tzinfo=UTC)  # a Saturday
    weekdays = Student(
        gateway_url,
        new_user(),
        firestore_db,
        start,
        timezone="UTC",
        reminderHour=9,
        dayStartsAtHour=0,
        quietDays=["sat", "sun"],
    )
    off = Student(gateway_url, new_user(), firestore_db, start, timezone="UTC", reminderHour=9, dayStartsAtHour=0)
    for s in (weekdays, off):
        s.cards_due(datetime(2026, 4, 4, 1, tzinfo=UTC))
    off.api.ok("PATCH", "/account", json={"settings": {"remindersEnabled": False}})
    assert "nextReminderAt" not in firestore_db.collection("users").document(off.uid).get().to_dict()
    simulate(peers, [weekdays, off], start, 3 * 24)
    assert weekdays.reminders() == [datetime(2026, 4, 6, 9, tzinfo=UTC)]  # Monday, not the weekend
    assert off.reminders() == []
    assert peers.messages(off.token) == []


def test_a_push_fcm_keeps_refusing_is_sent_by_a_later_run_once(
    gateway_url: str, new_user: Any, firestore_db: Any, peers: Peers
) -> None:
    at = datetime(2026, 7, 6, 9, tzinfo=UTC)
    s = Student(gateway_url, new_user(), firestore_db, at, timezone="UTC", reminderHour=9, dayStartsAtHour=0)
    s.cards_due(datetime(2026, 7, 6, 6, tzinfo=UTC))
    peers.fail(s.token, "UNAVAILABLE", -1)  # FCM is down for this device during the whole run
    peers.run(at)
    assert s.reminders() == [at]  # the in-app reminder exists; the push waits
    assert peers.messages(s.token) == []
    failed = len(peers.requests(s.token))
    assert failed >= 2  # retried within the run before it was left
    requests.delete(f"{peers.fcm}/_test/tokens", timeout=10).raise_for_status()  # FCM is back
    peers.run(at + timedelta(minutes=15))
    peers.run(at + timedelta(minutes=30))
    assert len(peers.messages(s.token)) == 1  # sent by the next run, once
    assert [r["status"] for r in peers.requests(s.token)][failed:] == [200]
    note = firestore_db.collection("users").document(s.uid).collection("notifications").document("r2026-07-06")
    assert note.get().to_dict()["pushPending"] is False


def test_a_scheduled_time_that_is_not_a_time_is_400(gateway_url: str) -> None:
    headers = {"X-Aksio-Task-Secret": os.environ["TASKS_AUTH_SECRET"]}
    r = requests.post(f"{gateway_url}/send-reminders", json={"scheduledTime": "soon"}, headers=headers, timeout=10)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_schedule_time"
