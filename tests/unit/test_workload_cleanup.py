"""A chaos workload drops its table after verifying, unless kept; a failed drop is only noted."""

from __future__ import annotations

import pytest

from certify.cell import KEEP_VAR
from certify.chaos.workload import clean_up


class _Job:
    """The drop half of a workload job: records whether it was asked, fails when told to."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.dropped = 0

    def drop(self) -> None:
        self.dropped += 1
        if self.error is not None:
            raise self.error


def test_the_table_is_dropped_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEEP_VAR, raising=False)
    job = _Job()
    assert clean_up(job) is True  # type: ignore[arg-type]
    assert job.dropped == 1


def test_keep_leaves_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEEP_VAR, "1")
    job = _Job()
    assert clean_up(job) is False  # type: ignore[arg-type]
    assert job.dropped == 0


def test_a_failed_drop_is_a_warning_in_the_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(KEEP_VAR, raising=False)
    job = _Job(RuntimeError("metastore unreachable\nat line 2"))
    assert clean_up(job) is False  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert err == (
        "certify: warning: could not drop the workload's table: "
        "RuntimeError: metastore unreachable\n"
    )
