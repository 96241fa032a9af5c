"""The AI e2e tests that assert what the offline provider makes cannot pass by skipping:
under the whole stack a configured OPENAI_API_KEY fails them."""

from __future__ import annotations

import pytest

from tests import conftest


def test_a_key_under_the_stack_fails_elsewhere_skips_and_none_runs() -> None:
    assert conftest.offline_gateway_check({"OPENAI_API_KEY": "sk-x", "AKSIO_STACK": "1"}) == "fail"
    assert conftest.offline_gateway_check({"OPENAI_API_KEY": "sk-x"}) == "skip"
    assert conftest.offline_gateway_check({"AKSIO_STACK": "1"}) is None
    assert conftest.offline_gateway_check({"OPENAI_API_KEY": "", "AKSIO_STACK": "1"}) is None


def test_the_fixture_fails_the_test_under_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("AKSIO_STACK", "1")
    with pytest.raises(pytest.fail.Exception, match="OPENAI_API_KEY is set"):
        conftest.offline_gateway.__wrapped__()  # type: ignore[attr-defined]
