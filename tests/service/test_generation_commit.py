"""Generation's step commit, job failure and refund as services on an in-memory repository.

A step commits its cards, its record, the job's progress and the tokens in one
transaction that re-checks the step record; these tests pin down each rule, including a
duplicate delivery that commits between another's reads and its commit.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aksio.ai.base import Usage
from aksio.generation import jobs, steps
from aksio.study.model import Content, new_card
from tests.service.memory import Memory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JOB = "job-1"


def job_record(
    *, count: int = 10, steps_total: int = 2, draft: bool = False, status: str = "running"
) -> jobs.JobRecord:
    return jobs.JobRecord(
        status=status,
        deck_id="d1",
        source="text",
        units=[{"d": "_text", "h": "_text", "i": i} for i in range(steps_total * 3)],
        steps_total=steps_total,
        count=count,
        draft=draft,
        request_hash="h",
        charged_at=NOW,
    )


def memory_with_job(**kw: object) -> Memory:
    memory = Memory()
    memory.put(("decks", "d1"), {"name": "Biology"})
    memory.put(("jobs", JOB), job_record(**kw).to_stored(NOW))  # type: ignore[arg-type]
    return memory


def cards(*fronts: str) -> list[tuple[str, dict[str, object]]]:
    out = []
    for front in fronts:
        card_id, doc = new_card("d1", Content(front=front, back="b"), note=None, tags=["generated"], now=NOW)
        out.append((card_id, doc))
    return out


def work(fresh: list[tuple[str, dict[str, object]]], *, step: int = 0, draft: bool = False) -> jobs.StepWork:
    return jobs.StepWork(
        step=step,
        span_stop=(step + 1) * 3,
        fresh=fresh,  # type: ignore[arg-type]
        duplicates=1,
        rejected=["no passage"],
        usage=Usage(prompt_tokens=100, completion_tokens=40, calls=1),
        provider="offline",
        draft_mode=draft,
        attempt=0,
    )


def test_a_step_commits_cards_record_progress_and_tokens_together() -> None:
    memory = memory_with_job()
    fresh = cards("What is ATP?", "What is NADH?")
    assert steps.commit_step(memory, JOB, work(fresh), now=NOW) == "done"
    assert memory.commits == 1
    assert sorted(memory.paths("cards")) == sorted(("cards", cid) for cid, _ in fresh)
    record = memory.get(("steps", JOB, "0"))
    assert record is not None
    assert (record["cards"], record["duplicates"]) == ([cid for cid, _ in fresh], 1)
    job = memory.get(("jobs", JOB))
    assert job is not None
    assert (job["status"], job["stepsDone"], job["chunksDone"], job["cardsCreated"]) == ("running", 1, 3, 2)
    assert (job["duplicatesSkipped"], job["rejected"], job["rejectedReasons"]) == (1, 1, ["no passage"])
    assert job["tokens"] == {"promptTokens": 100, "completionTokens": 40, "totalTokens": 140, "calls": 1}
    assert job["startedAt"] == NOW
    assert "finishedAt" not in job
    assert memory.get(("usage", "2026-03")) == {"tokens": 140, "modelCalls": 1}


def test_the_last_step_finishes_the_job() -> None:
    memory = memory_with_job(steps_total=1)
    assert steps.commit_step(memory, JOB, work(cards("Q1")), now=NOW) == "done"
    job = memory.get(("jobs", JOB))
    assert job is not None
    assert (job["status"], job["finishedAt"]) == ("succeeded", NOW)


def test_a_step_committed_twice_commits_once() -> None:
    memory = memory_with_job()
    fresh = cards("Q1", "Q2")
    steps.commit_step(memory, JOB, work(fresh), now=NOW)
    assert steps.commit_step(memory, JOB, work(fresh), now=NOW) == "duplicate"
    assert memory.commits == 1
    assert memory.get(("jobs", JOB))["cardsCreated"] == 2  # type: ignore[index]


def test_a_duplicate_delivery_landing_first_makes_the_other_commit_nothing() -> None:
    memory = memory_with_job()
    fresh = cards("Q1", "Q2")
    first: list[str] = []
    memory.interleave = lambda m: first.append(steps.commit_step(m, JOB, work(fresh), now=NOW))
    assert steps.commit_step(memory, JOB, work(fresh), now=NOW) == "duplicate"
    assert first == ["done"]
    assert len(memory.paths("cards")) == 2
    assert memory.get(("jobs", JOB))["cardsCreated"] == 2  # type: ignore[index]
    assert memory.get(("usage", "2026-03"))["tokens"] == 140  # type: ignore[index]


def test_cards_that_exist_already_count_as_duplicates() -> None:
    memory = memory_with_job()
    fresh = cards("Q1", "Q2")
    memory.put(("cards", fresh[0][0]), fresh[0][1])  # made meanwhile, e.g. by hand
    steps.commit_step(memory, JOB, work(fresh), now=NOW)
    job = memory.get(("jobs", JOB))
    assert job is not None
    assert (job["cardsCreated"], job["duplicatesSkipped"]) == (1, 2)


def test_never_more_cards_than_asked_for() -> None:
    memory = memory_with_job(count=3)
    steps.commit_step(memory, JOB, work(cards("Q1", "Q2", "Q3", "Q4", "Q5")), now=NOW)
    job = memory.get(("jobs", JOB))
    assert job is not None
    assert job["cardsCreated"] == 3
    assert len(memory.paths("cards")) == 3
    assert job["rejected"] == 1 + 2
    assert "2 cards over the requested count were not kept" in job["rejectedReasons"]


def test_in_draft_mode_cards_wait_as_drafts() -> None:
    memory = memory_with_job(draft=True)
    fresh = cards("Q1", "Q2")
    memory.put(("cards", fresh[1][0]), fresh[1][1])  # already a card: not drafted again
    steps.commit_step(memory, JOB, work(fresh, draft=True), now=NOW)
    assert memory.paths("drafts") == [("drafts", JOB, fresh[0][0])]
    assert memory.get(("drafts", JOB, fresh[0][0]))["jobId"] == JOB  # type: ignore[index]
    assert memory.get(("jobs", JOB))["draftsPending"] == 1  # type: ignore[index]


def test_a_deleted_deck_fails_the_job_and_writes_no_card() -> None:
    memory = memory_with_job()
    memory.put(("decks", "d1"), {"name": "Biology", "deleting": True})
    assert steps.commit_step(memory, JOB, work(cards("Q1")), now=NOW) == "failed"
    job = memory.get(("jobs", JOB))
    assert job is not None
    assert (job["status"], job["error"]["code"]) == ("failed", "deck_deleted")
    assert memory.paths("cards") == []
    assert memory.get(("steps", JOB, "0")) is None


def test_a_finished_job_takes_no_more_steps() -> None:
    memory = memory_with_job(status="succeeded")
    assert steps.commit_step(memory, JOB, work(cards("Q1")), now=NOW) == "finished"
    assert memory.commits == 0


def test_failing_a_job_refunds_it_once_when_it_made_nothing() -> None:
    memory = memory_with_job(status="queued")
    assert steps.mark_failed(memory, JOB, "model_rejected", "no", NOW)
    assert not steps.mark_failed(memory, JOB, "other", "again", NOW)  # already ended
    assert memory.get(("jobs", JOB))["error"]["code"] == "model_rejected"  # type: ignore[index]
    assert steps.mark_refunded(memory, JOB) == NOW
    assert steps.mark_refunded(memory, JOB) is None


def test_a_failed_job_that_made_cards_is_not_refunded() -> None:
    memory = memory_with_job()
    steps.commit_step(memory, JOB, work(cards("Q1")), now=NOW)
    steps.mark_failed(memory, JOB, "model_rejected", "no", NOW)
    assert steps.mark_refunded(memory, JOB) is None
