"""local/scheduler.py calls its jobs' targets as Cloud Scheduler does: slots, headers, retries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from scheduler import Job, Scheduler, backoff, due_slot, next_slot, parse_job, parse_rfc3339, rfc3339, slot_at

from tests.stack.conftest import PYTHON, REPO, free_port, run_stack, wait_until


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- slots: pure -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "every", "slot", "following"),
    [
        ("2026-03-29 10:14:59.999999", 15, "2026-03-29 10:00", "2026-03-29 10:15"),
        ("2026-03-29 10:15:00", 15, "2026-03-29 10:15", "2026-03-29 10:30"),  # a boundary is its own slot
        ("2026-03-29 10:15:00.000001", 15, "2026-03-29 10:15", "2026-03-29 10:30"),
        ("2026-03-29 23:59:59", 15, "2026-03-29 23:45", "2026-03-30 00:00"),  # across midnight
        ("2026-12-31 23:50", 15, "2026-12-31 23:45", "2027-01-01 00:00"),  # across a year
        ("2026-03-29 10:59", 60, "2026-03-29 10:00", "2026-03-29 11:00"),
        ("2026-03-29 10:59", 1, "2026-03-29 10:59", "2026-03-29 11:00"),
        ("2026-03-29 13:30", 120, "2026-03-29 12:00", "2026-03-29 14:00"),  # cron 0 */2 * * *
        ("2026-03-29 13:30", 1440, "2026-03-29 00:00", "2026-03-30 00:00"),
        ("2026-03-29 13:30", 480, "2026-03-29 08:00", "2026-03-29 16:00"),  # cron 0 */8 * * *
        ("2024-02-29 00:07", 5, "2024-02-29 00:05", "2024-02-29 00:10"),
    ],
)
def test_slots_are_multiples_of_the_period_since_midnight_utc(
    moment: str, every: int, slot: str, following: str
) -> None:
    assert slot_at(utc(moment), every) == utc(slot)
    assert next_slot(utc(moment), every) == utc(following)


def test_slots_are_utc_whatever_the_offset_of_the_clock() -> None:
    oslo_summer = timezone(timedelta(hours=2))
    india = timezone(timedelta(hours=5, minutes=30))  # a half-hour offset: 15-minute slots still align in UTC

    assert slot_at(datetime(2026, 3, 29, 3, 7, tzinfo=oslo_summer), 15) == utc("2026-03-29 01:00")
    assert slot_at(datetime(2026, 3, 29, 6, 40, tzinfo=india), 60) == utc("2026-03-29 01:00")
    assert slot_at(datetime(2026, 3, 29, 6, 40, tzinfo=india), 15).tzinfo == UTC


@pytest.mark.parametrize("every", [0, -15, 7, 45, 90, 2880])
def test_a_period_that_cron_cannot_say_evenly_is_refused(every: int) -> None:
    with pytest.raises(ValueError, match="must divide an hour"):
        slot_at(utc("2026-03-29 10:00"), every)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        slot_at(datetime(2026, 3, 29, 10, 0), 15)  # naive: the point of the test


def test_one_run_per_slot_and_missed_slots_are_not_caught_up() -> None:
    start = slot_at(utc("2026-03-29 10:07"), 15)  # what a scheduler started at 10:07 remembers: 10:00

    assert due_slot(start, utc("2026-03-29 10:07:30"), 15) is None  # nothing at start
    assert due_slot(start, utc("2026-03-29 10:14:59.9"), 15) is None
    assert due_slot(start, utc("2026-03-29 10:15:00.2"), 15) == utc("2026-03-29 10:15")
    ran = utc("2026-03-29 10:15")
    assert due_slot(ran, utc("2026-03-29 10:15:40"), 15) is None  # the same slot, once
    assert due_slot(ran, utc("2026-03-29 10:29:59"), 15) is None
    assert due_slot(ran, utc("2026-03-29 11:02"), 15) == utc("2026-03-29 11:00")  # 10:30, 10:45 slept through


def test_backoff_follows_cloud_schedulers_retry_config() -> None:
    # The example of Cloud Scheduler's documentation: 10 s, 300 s, 3 doublings.
    assert [backoff(n, 10, 300, 3) for n in range(1, 9)] == [10, 20, 40, 80, 160, 240, 300, 300]
    # Its defaults (5 s, 1 h, 5 doublings) and terraform's (30 s, 300 s).
    assert [backoff(n, 5, 3600, 5) for n in range(1, 6)] == [5, 10, 20, 40, 80]
    assert [backoff(n, 30, 300, 5) for n in range(1, 6)] == [30, 60, 120, 240, 300]
    assert [backoff(n, 1, 8, 5) for n in range(1, 4)] == [1, 2, 4]  # the stack's
    with pytest.raises(ValueError, match="from 1"):
        backoff(0, 1, 8, 5)


def test_times_are_rfc3339_utc() -> None:
    assert rfc3339(utc("2026-03-29 10:15")) == "2026-03-29T10:15:00Z"
    assert rfc3339(utc("2026-03-29 10:15:00.25")) == "2026-03-29T10:15:00.25Z"
    assert parse_rfc3339("2026-03-29T03:00:00+02:00") == utc("2026-03-29 01:00")
    assert parse_rfc3339("2026-03-29T01:00:00Z") == utc("2026-03-29 01:00")
    with pytest.raises(ValueError, match="offset"):
        parse_rfc3339("2026-03-29T01:00:00")


# -- jobs --------------------------------------------------------------------------------------


def test_a_job_is_parsed_from_its_command_line_spec() -> None:
    spec = (
        "name=send-reminders,every=15,url=http://127.0.0.1:8000/send-reminders?a=1,2,"
        "header=X-Aksio-Task-Secret:s3:cr,et,header_env=X-Other:OTHER_SECRET,retries=2,min_backoff=0.5,"
        "max_backoff=4,max_doublings=2,deadline=30,no_retry=404+410,method=put"
    )
    job = parse_job(spec, {"OTHER_SECRET": "from-env"})

    assert job == Job(
        name="send-reminders",
        every=15,
        url="http://127.0.0.1:8000/send-reminders?a=1,2",
        method="PUT",
        headers={"X-Aksio-Task-Secret": "s3:cr,et", "X-Other": "from-env"},
        retries=2,
        min_backoff=0.5,
        max_backoff=4.0,
        max_doublings=2,
        deadline=30.0,
        no_retry=frozenset({404, 410}),
    )


def test_a_jobs_defaults_are_cloud_schedulers_with_terraforms_retry_count() -> None:
    job = parse_job("name=j,every=15,url=http://127.0.0.1:1/x", {})
    assert (job.method, job.retries, job.min_backoff, job.max_backoff, job.max_doublings) == ("POST", 3, 5, 3600, 5)
    assert (job.deadline, job.headers, job.no_retry) == (180, {}, frozenset())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("name=j,url=http://x/", "missing every"),
        ("name=j,every=7,url=http://x/", "must divide an hour"),
        ("name=j,every=15,url=http://x/,retries=6", "0 to 5"),
        ("name=j,every=15,url=http://x/,min_backoff=5,max_backoff=1", "backoffs"),
        ("name=j,every=15,url=http://x/,colour=red", "is not one of"),
        ("name=j,every=15,url=http://x/,header_env=X-S:UNSET_VARIABLE", "UNSET_VARIABLE is not set"),
        ("name=j,every=15,url=http://x/,header=no-colon", "Name:value"),
    ],
)
def test_a_wrong_job_is_refused(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_job(spec, {})


# -- a target to call --------------------------------------------------------------------------


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    at: float  # monotonic

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Target:
    """Records every request; answers the scripted (status, body) in turn, then 200; ``hold``
    keeps answers back until it is set."""

    url: str
    hits: list[Hit] = field(default_factory=list)
    script: list[tuple[int, str]] = field(default_factory=list)
    hold: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def target() -> Iterator[Target]:
    lock = threading.Lock()
    box: list[Target] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                rec = box[0]
                headers = {k.lower(): v for k, v in self.headers.items()}
                rec.hits.append(Hit(self.command, self.path, headers, body, time.monotonic()))
                status, text = rec.script.pop(0) if rec.script else (200, '{"sent": 0}')
            rec.arrived.set()
            if rec.hold is not None:
                rec.hold.wait(10)
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PUT = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.append(Target(f"http://127.0.0.1:{server.server_port}"))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield box[0]
    if box[0].hold is not None:
        box[0].hold.set()
    server.shutdown()
    server.server_close()


class FakeClock:
    def __init__(self, now: str) -> None:
        self.now = utc(now)

    def __call__(self) -> datetime:
        return self.now


def job_for(target: Target, **options: Any) -> Job:
    return Job(name="send-reminders", every=15, url=f"{target.url}/send-reminders", **options)


@pytest.fixture
def make_scheduler() -> Iterator[Any]:
    made: list[Scheduler] = []

    def make(jobs: list[Job], **kwargs: Any) -> Scheduler:
        scheduler = Scheduler(jobs, **kwargs)
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler.stopping.set()
        scheduler.wait_idle(10)
        scheduler.stop()


# -- the clock ---------------------------------------------------------------------------------


def test_the_clock_calls_the_target_once_per_slot_from_the_next_one_on(target: Target, make_scheduler: Any) -> None:
    clock = FakeClock("2026-03-29 10:07:12")
    scheduler = make_scheduler([job_for(target)], clock=clock)

    assert scheduler.tick(utc("2026-03-29 10:07:13")) == []  # nothing at start
    assert scheduler.tick(utc("2026-03-29 10:14:59.95")) == []
    assert scheduler.tick(utc("2026-03-29 10:15:00.05")) == ["send-reminders"]
    scheduler.wait_idle()
    assert scheduler.tick(utc("2026-03-29 10:15:30")) == []  # the same slot: no second call
    assert scheduler.tick(utc("2026-03-29 10:29:59")) == []
    assert scheduler.tick(utc("2026-03-29 11:01")) == ["send-reminders"]  # 10:30 and 10:45 were slept through
    scheduler.wait_idle()

    assert [h.json()["scheduledTime"] for h in target.hits] == ["2026-03-29T10:15:00Z", "2026-03-29T11:00:00Z"]
    runs = scheduler.runs()
    assert [(r["trigger"], r["scheduledTime"], r["status"], r["state"]) for r in runs] == [
        ("clock", "2026-03-29T10:15:00Z", 200, "succeeded"),
        ("clock", "2026-03-29T11:00:00Z", 200, "succeeded"),
    ]


def test_a_slot_is_skipped_while_the_previous_run_still_goes(target: Target, make_scheduler: Any) -> None:
    target.hold = threading.Event()
    scheduler = make_scheduler([job_for(target)], clock=FakeClock("2026-03-29 10:07"))

    assert scheduler.tick(utc("2026-03-29 10:15:00.1")) == ["send-reminders"]
    assert target.arrived.wait(10)
    assert scheduler.tick(utc("2026-03-29 10:30:00.1")) == []  # the 10:15 run has no answer yet
    target.hold.set()
    scheduler.wait_idle()

    assert len(target.hits) == 1
    assert scheduler.tick(utc("2026-03-29 10:45:00.1")) == ["send-reminders"]
    scheduler.wait_idle()
    assert len(target.hits) == 2


def test_a_paused_clock_calls_nothing_and_does_not_catch_up(target: Target, make_scheduler: Any) -> None:
    scheduler = make_scheduler([job_for(target)], clock=FakeClock("2026-03-29 10:07"), clock_enabled=False)

    assert scheduler.tick(utc("2026-03-29 10:15:00.1")) == []
    scheduler.clock_enabled = True
    assert scheduler.tick(utc("2026-03-29 10:16")) == []  # 10:15 passed while paused
    assert scheduler.tick(utc("2026-03-29 10:30:00.1")) == ["send-reminders"]
    scheduler.wait_idle()
    assert [h.json()["scheduledTime"] for h in target.hits] == ["2026-03-29T10:30:00Z"]


def test_a_clock_run_does_not_retry_past_the_next_slot(target: Target, make_scheduler: Any) -> None:
    target.script = [(500, "{}")] * 5
    clock = FakeClock("2026-03-29 10:29:59.5")  # half a second before the next slot
    scheduler = make_scheduler([job_for(target, min_backoff=1.0, retries=3)], clock=clock)
    scheduler._last_slot["send-reminders"] = utc("2026-03-29 10:00")

    assert scheduler.tick(utc("2026-03-29 10:29:59.5")) == ["send-reminders"]  # the 10:15 slot, late
    scheduler.wait_idle()

    [run] = scheduler.runs()
    assert (run["state"], run["status"], len(run["attempts"])) == ("failed", 500, 1)


def test_the_clock_runs_on_the_wall_clock_when_started(target: Target, make_scheduler: Any) -> None:
    """Started, it sleeps until the next slot: with the slot a second and a half away, one call comes."""
    real_start = datetime.now(UTC)
    offset = next_slot(real_start, 1) - real_start  # the wall clock, shifted so the next 1-minute slot is 1.5 s away
    shift = offset - timedelta(seconds=1.5)
    scheduler = make_scheduler(
        [Job(name="tick", every=1, url=f"{target.url}/tick")], clock=lambda: datetime.now(UTC) + shift
    )
    scheduler.start()

    wait_until(lambda: len(scheduler.runs()) == 1 and scheduler.runs()[0]["state"] != "running", 10, "the slot's run")

    [run] = scheduler.runs()
    assert run["trigger"] == "clock"
    assert parse_rfc3339(run["scheduledTime"]) == next_slot(real_start + shift, 1)
    assert len(target.hits) == 1


# -- the test controls over HTTP ---------------------------------------------------------------


def test_run_calls_the_target_like_cloud_scheduler_at_the_chosen_instant(tmp_path: Path, target: Target) -> None:
    """The command line, as the stack runs it: /_test/run, the headers and body, SIGTERM."""
    port = free_port()
    log_path = tmp_path / "scheduler.log"
    job = f"name=send-reminders,every=15,url={target.url}/send-reminders,header=X-Plain:a,b"
    job += ",header_env=X-Aksio-Task-Secret:SECRET_FOR_TEST"
    env = {**os.environ, "SECRET_FOR_TEST": "s3cr3t-value"}
    argv = [PYTHON, str(REPO / "local" / "scheduler.py"), "--port", str(port), "--job", job, "--no-clock"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_until(
                lambda: "listening on" in log_path.read_text() or process.poll() is not None, 20, "the scheduler"
            )
            base = f"http://127.0.0.1:{port}"
            assert f"scheduler listening on {base}" in log_path.read_text()

            answer = requests.post(
                f"{base}/_test/run", json={"job": "send-reminders", "at": "2026-03-29T03:00:00+02:00"}, timeout=30
            )

            assert answer.status_code == 200, answer.text
            run = answer.json()
            assert (run["job"], run["trigger"], run["scheduledTime"]) == (
                "send-reminders",
                "test",
                "2026-03-29T01:00:00Z",
            )
            assert (run["status"], run["body"], run["json"], run["succeeded"]) == (
                200,
                '{"sent": 0}',
                {"sent": 0},
                True,
            )
            [hit] = target.hits
            assert (hit.method, hit.path) == ("POST", "/send-reminders")
            assert hit.json() == {"job": "send-reminders", "scheduledTime": "2026-03-29T01:00:00Z"}
            assert hit.headers["content-type"] == "application/json"
            assert hit.headers["user-agent"] == "Google-Cloud-Scheduler"
            assert hit.headers["x-cloudscheduler"] == "true"
            assert hit.headers["x-cloudscheduler-jobname"] == "send-reminders"
            assert hit.headers["x-cloudscheduler-scheduletime"] == "2026-03-29T01:00:00Z"
            assert hit.headers["x-aksio-task-secret"] == "s3cr3t-value"
            assert hit.headers["x-plain"] == "a,b"

            jobs = requests.get(f"{base}/_test/jobs", timeout=5).json()
            assert jobs["clock"] is False
            assert jobs["jobs"][0]["headers"] == ["X-Aksio-Task-Secret", "X-Plain"]  # names, never values
            assert "s3cr3t-value" not in json.dumps(jobs)

            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert "s3cr3t-value" not in log_path.read_text()


@pytest.fixture
def served(target: Target, make_scheduler: Any) -> tuple[str, Scheduler]:
    """A started scheduler (its clock paused) with a job on ``target`` retrying fast."""
    jobs = [
        job_for(target, retries=3, min_backoff=0.2, max_backoff=1.0, no_retry=frozenset({404})),
        Job(name="nowhere", every=15, url=f"http://127.0.0.1:{free_port()}/x", retries=1, min_backoff=0.1),
    ]
    scheduler = make_scheduler(jobs, clock_enabled=False).start()
    return scheduler.url, scheduler


def run_now(base: str, **body: Any) -> dict[str, Any]:
    """POST /_test/run, which answers once the run is over."""
    response = requests.post(f"{base}/_test/run", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_failing_target_is_retried_with_backoff_and_the_attempts_recorded(
    served: tuple[str, Scheduler], target: Target
) -> None:
    base, _ = served
    target.script = [(500, '{"error": "boom"}'), (503, "busy")]

    run = run_now(base, job="send-reminders", at="2026-03-29T10:15:00Z")

    assert [a["status"] for a in run["attempts"]] == [500, 503, 200]
    assert [a["attempt"] for a in run["attempts"]] == [1, 2, 3]
    assert (run["status"], run["succeeded"], run["state"]) == (200, True, "succeeded")
    gaps = [later.at - earlier.at for earlier, later in zip(target.hits, target.hits[1:], strict=False)]
    assert gaps[0] >= 0.2 * 0.95
    assert gaps[1] >= 0.4 * 0.95  # doubled
    assert all(h.json()["scheduledTime"] == "2026-03-29T10:15:00Z" for h in target.hits)  # the same slot each time

    [listed] = requests.get(f"{base}/_test/runs", timeout=5).json()["runs"]
    assert listed == run


def test_retries_stop_after_the_jobs_count(served: tuple[str, Scheduler], target: Target) -> None:
    base, _ = served
    target.script = [(500, "no")] * 10

    run = run_now(base, job="send-reminders", at="2026-03-29T10:15:00Z")

    assert [a["status"] for a in run["attempts"]] == [500, 500, 500, 500]  # 1 + 3 retries
    assert (run["status"], run["body"], run["succeeded"]) == (500, "no", False)
    assert len(target.hits) == 4  # the run answered only once finished: nothing more comes


def test_a_run_may_ask_for_fewer_retries(served: tuple[str, Scheduler], target: Target) -> None:
    base, _ = served
    target.script = [(500, "no")] * 10

    run = run_now(base, job="send-reminders", at="2026-03-29T10:15:00Z", retries=0)

    assert len(run["attempts"]) == 1
    assert len(target.hits) == 1


def test_a_status_listed_in_no_retry_ends_the_run(served: tuple[str, Scheduler], target: Target) -> None:
    base, _ = served
    target.script = [(404, '{"error": {"code": "not_found"}}')]

    run = run_now(base, job="send-reminders", at="2026-03-29T10:15:00Z")

    assert (run["status"], len(run["attempts"]), run["json"]) == (404, 1, {"error": {"code": "not_found"}})
    assert len(target.hits) == 1


def test_an_unreachable_target_is_recorded_as_an_error(served: tuple[str, Scheduler]) -> None:
    base, _ = served

    run = run_now(base, job="nowhere")

    assert [a["status"] for a in run["attempts"]] == [None, None]
    assert "Connection refused" in run["error"]
    assert run["succeeded"] is False


def test_runs_are_listed_by_job_and_cleared(served: tuple[str, Scheduler], target: Target) -> None:
    base, _ = served
    run_now(base, job="send-reminders", at="2026-03-29T10:15:00Z")
    run_now(base, job="nowhere", retries=0)
    run_now(base, job="send-reminders", at="2026-03-29T10:30:00Z")

    runs = requests.get(f"{base}/_test/runs", params={"job": "send-reminders"}, timeout=5).json()["runs"]
    assert [r["scheduledTime"] for r in runs] == ["2026-03-29T10:15:00Z", "2026-03-29T10:30:00Z"]
    assert [r["id"] for r in runs] == [1, 3]
    assert requests.delete(f"{base}/_test/runs", timeout=5).json() == {"cleared": 3}
    assert requests.get(f"{base}/_test/runs", timeout=5).json() == {"runs": []}


def test_the_clock_can_be_paused_and_resumed(served: tuple[str, Scheduler]) -> None:
    base, scheduler = served

    assert requests.post(f"{base}/_test/clock", json={"enabled": True}, timeout=5).json() == {"clock": True}
    assert scheduler.clock_enabled is True
    assert requests.get(f"{base}/_test/jobs", timeout=5).json()["clock"] is True
    assert requests.post(f"{base}/_test/clock", json={"enabled": False}, timeout=5).json() == {"clock": False}
    assert requests.post(f"{base}/_test/clock", json={"enabled": "no"}, timeout=5).status_code == 400


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"job": "unknown"}, 404),
        ({"job": ["send-reminders"]}, 404),
        ({"job": "send-reminders", "at": "2026-03-29T10:15:00"}, 400),  # no offset
        ({"job": "send-reminders", "at": "tomorrow"}, 400),
        ({"job": "send-reminders", "retries": 9}, 400),
    ],
)
def test_a_wrong_run_request_is_refused(
    served: tuple[str, Scheduler], target: Target, body: dict[str, Any], status: int
) -> None:
    base, _ = served
    assert requests.post(f"{base}/_test/run", json=body, timeout=5).status_code == status
    assert requests.post(f"{base}/_test/run", data=b"[1]", timeout=5).status_code == 400
    assert target.hits == []


# -- in the stack ------------------------------------------------------------------------------


def test_the_stack_runs_fcm_and_the_scheduler_on_send_reminders(stack_env: dict[str, str], tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    script = f"""
import json, os, requests
env = os.environ
jobs = requests.get(env["SCHEDULER_URL"] + "/_test/jobs", timeout=5).json()
run = requests.post(env["SCHEDULER_URL"] + "/_test/run",
                    json={{"job": "send-reminders", "at": "2026-03-29T01:00:00Z"}}, timeout=60).json()
sent = requests.post(env["FCM_API_BASE"] + "/v1/projects/" + env["GOOGLE_CLOUD_PROJECT"] + "/messages:send",
                     headers={{"Authorization": "Bearer local"}}, json={{"message": {{"token": "t"}}}}, timeout=5)
log = open(os.path.join(env["AKSIO_LOCAL_DIR"], "logs", "scheduler.log")).read()
open({str(seen)!r}, "w").write(json.dumps({{
    "env": dict(env), "jobs": jobs, "run": run, "sent": sent.status_code,
    "secret_in_log": env["TASKS_AUTH_SECRET"] in log,
}}))
"""
    result = run_stack(
        ["exec", "--free-ports", "--only", "fcm,gateway,scheduler", "--", PYTHON, "-c", script], stack_env
    )

    assert result.returncode == 0, result.stderr[-3000:]
    seen_data = json.loads(seen.read_text())
    env, jobs, run = seen_data["env"], seen_data["jobs"], seen_data["run"]
    assert env["FCM_API_BASE"].startswith("http://127.0.0.1:")
    assert env["SCHEDULER_URL"].startswith("http://127.0.0.1:")
    by_name = {j["name"]: j for j in jobs["jobs"]}
    assert set(by_name) == {"send-reminders", "refit-fsrs"}
    assert by_name["refit-fsrs"]["every"] == 24 * 60
    job = by_name["send-reminders"]
    assert job["every"] == 15
    assert job["url"] == env["GATEWAY_URL"] + "/send-reminders"
    assert job["headers"] == ["X-Aksio-Task-Secret"]
    assert jobs["clock"] is True
    assert run["scheduledTime"] == "2026-03-29T01:00:00Z"
    assert run["status"] is not None, run  # the gateway answered
    if run["status"] == 404:  # no send-reminders function yet: called once, not retried
        assert len(run["attempts"]) == 1
    assert seen_data["sent"] == 200
    assert seen_data["secret_in_log"] is False
    for name in ("fcm", "scheduler"):
        assert f"stack: {name} ready" in result.stderr
