"""The stripe component's localstripe store: kept where the stack says, never in /tmp."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from localstripe import resources
from stack.stripe_server import PrivateStore


@pytest.fixture(autouse=True)
def _no_shared_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """localstripe's own persistence (/tmp/localstripe.pickle) must never run."""

    def refuse(self: object) -> None:
        raise AssertionError("localstripe's Store.dump_to_disk was called")

    monkeypatch.setattr(resources.Store, "dump_to_disk", refuse)


def private_store(path: Path | None) -> PrivateStore:
    store = PrivateStore()
    store.path = path
    return store


def test_every_change_is_written_to_the_stores_file_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "stripe.pickle"
    store = private_store(path)
    store["cus_1"] = {"id": "cus_1"}
    store["cus_2"] = {"id": "cus_2"}
    del store["cus_1"]

    assert pickle.loads(path.read_bytes()) == {"cus_2": {"id": "cus_2"}}  # noqa: S301 - written just above
    again = private_store(path)
    again.try_load_from_disk()
    assert dict(again) == {"cus_2": {"id": "cus_2"}}


def test_without_a_file_the_store_is_memory_only(tmp_path: Path) -> None:
    store = private_store(None)
    store["cus_1"] = {"id": "cus_1"}
    store.try_load_from_disk()
    assert dict(store) == {"cus_1": {"id": "cus_1"}}
    assert list(tmp_path.iterdir()) == []


def test_a_file_of_the_single_file_stack_still_loads(tmp_path: Path) -> None:
    """It pickled localstripe's Store itself; loading it must not run that class's persistence."""
    path = tmp_path / "stripe.pickle"
    path.write_bytes(pickle.dumps(resources.Store({"cus_1": {"id": "cus_1"}}), protocol=pickle.HIGHEST_PROTOCOL))

    store = private_store(path)
    store.try_load_from_disk()

    assert dict(store) == {"cus_1": {"id": "cus_1"}}
