"""A review logs the business event the log-based metric card_reviewed counts
(terraform/modules/monitoring): a JSON line of the gateway with ``event: card_reviewed`` and
the request's id, which Cloud Logging reads as ``jsonPayload.event``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.e2e.study.conftest import Client

REPO = Path(__file__).resolve().parents[3]


def logged(request_id: str, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The gateway's JSON log lines of one request (the stack writes the gateway's stdout to
    .local/logs/gateway.log, or .local/stacks/<pid>/logs/ when another stack runs), once the
    request's access line is there."""
    deadline = time.monotonic() + timeout
    while True:
        lines = []
        for log in [REPO / ".local" / "logs" / "gateway.log", *(REPO / ".local" / "stacks").glob("*/logs/gateway.log")]:
            for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
                if request_id in line and line.startswith("{"):
                    lines.append(json.loads(line))
        if any("status" in entry for entry in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def test_a_review_logs_card_reviewed(client: Client) -> None:
    card = client.card(client.deck())
    response = client.review(card)
    assert response.status_code == 200, response.text
    lines = logged(response.headers["X-Request-Id"])
    events = [entry for entry in lines if entry.get("event") == "card_reviewed"]
    assert len(events) == 1, lines
    assert events[0]["message"] == "card reviewed"
