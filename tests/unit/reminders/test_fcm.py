"""What an FCM v1 answer means for a device."""

from __future__ import annotations

from typing import Any

import pytest

from aksio.reminders.fcm import classify


def error(code: int, status: str, message: str, fcm: str | None = None) -> dict[str, Any]:
    details = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm}] if fcm else []
    return {"error": {"code": code, "message": message, "status": status, "details": details}}


@pytest.mark.parametrize(
    ("status", "body", "result"),
    [
        (200, {"name": "projects/p/messages/1"}, "sent"),
        (404, error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"), "gone"),
        (
            400,
            error(
                400,
                "INVALID_ARGUMENT",
                "The registration token is not a valid FCM registration token",
                "INVALID_ARGUMENT",
            ),
            "gone",
        ),
        (400, error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", "INVALID_ARGUMENT"), "failed"),
        (429, error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "QUOTA_EXCEEDED"), "retry"),
        (503, error(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"), "retry"),
        (500, error(500, "INTERNAL", "Internal error.", "INTERNAL"), "retry"),
        (401, error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."), "failed"),
        (403, error(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"), "gone"),
    ],
)
def test_each_answer_has_its_outcome(status: int, body: dict[str, Any], result: str) -> None:
    assert classify(status, body).result == result
