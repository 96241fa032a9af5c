"""``:abortTransactions``: transaction commits touching a path prefix answer ABORTED, counted."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.cloud import firestore

from firestore_emulator import Emulator


def post(emulator: Emulator, project: str, body: dict[str, Any], method: str = "POST") -> int:
    url = f"http://{emulator.host}:{emulator.http_port}/emulator/v1/projects/{project}/databases/(default):abortTransactions"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def increment(db: firestore.Client, path: str, attempts: int) -> int:
    ref = db.document(path)

    @firestore.transactional
    def run(tx: Any) -> int:
        snap = ref.get(transaction=tx)
        value = int((snap.to_dict() or {}).get("n", 0)) + 1 if snap.exists else 1
        tx.set(ref, {"n": value})
        return value

    return int(run(db.transaction(max_attempts=attempts)))


def test_commits_under_the_prefix_abort_the_given_number_of_times(
    emulator: Emulator, project: str, db: firestore.Client
) -> None:
    assert post(emulator, project, {"pathPrefix": "users/u1", "count": 2}) == 200
    assert increment(db, "users/u2/cards/c", 1) == 1  # another prefix: unaffected
    assert increment(db, "users/u1/cards/c", 3) == 1  # two aborts, then the third attempt commits
    assert increment(db, "users/u1/cards/c", 1) == 2  # used up
    db.document("users/u1/cards/c").set({"n": 10})  # plain writes are never aborted
    post(emulator, project, {"pathPrefix": "users/u1/cards/c", "count": 5})
    with pytest.raises(ValueError, match="Failed to commit transaction") as info:
        increment(db, "users/u1/cards/c", 5)
    assert isinstance(info.value.__cause__, gexc.Aborted)
    assert db.document("users/u1/cards/c").get().to_dict() == {"n": 10}


def test_count_zero_or_delete_clears(emulator: Emulator, project: str, db: firestore.Client) -> None:
    post(emulator, project, {"pathPrefix": "a", "count": 100})
    post(emulator, project, {"pathPrefix": "a", "count": 0})
    assert increment(db, "a/x", 1) == 1
    post(emulator, project, {"pathPrefix": "b", "count": 100})
    assert post(emulator, project, {}, method="DELETE") == 200
    assert increment(db, "b/x", 1) == 1
