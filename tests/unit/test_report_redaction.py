"""A failing fixture's traceback shows its arguments: the cell's S3 keys must not reach reports."""

from __future__ import annotations

import pytest

from certify.pytest.plugin import pytest_runtest_logreport


def _report(text: str) -> pytest.TestReport:
    return pytest.TestReport(
        "scenarios/x.py::t", ("x.py", 1, "t"), {}, "failed", text, "setup",
        [("Captured stdout setup", f"client: {text}")],
    )  # fmt: skip


def test_credentials_are_redacted_before_any_reporter_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CERTIFY_S3_ACCESS_KEY_ID", "AKCERTIFYPLANTED42")
    monkeypatch.setenv("CERTIFY_S3_SECRET_ACCESS_KEY", "planted-secret-3f9c1e7a")
    report = _report("key = 'AKCERTIFYPLANTED42'\nsecret = 'planted-secret-3f9c1e7a'")
    pytest_runtest_logreport(report)
    assert "AKCERTIFYPLANTED42" not in str(report.longrepr)
    assert "planted-secret-3f9c1e7a" not in str(report.longrepr)
    assert "key = '***'" in str(report.longrepr)
    assert all("3f9c1e7a" not in body for _, body in report.sections)
    clean = _report("nothing secret here at all")
    pytest_runtest_logreport(clean)
    assert clean.longrepr == "nothing secret here at all"
