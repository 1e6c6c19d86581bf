"""Scenario suites: one folder per suite; the folder name is the suite name in every record."""

from pathlib import Path

import pytest

SUITES = sorted(
    p.name
    for p in Path(__file__).parent.iterdir()
    if (p / "__init__.py").exists() or any(p.glob("test_*.py"))
)


def pytest_configure(config: pytest.Config) -> None:
    """Declare one marker per suite folder."""
    for suite in SUITES:
        config.addinivalue_line("markers", f"{suite}: the {suite} certification suite")
