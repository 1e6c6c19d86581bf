"""Scenario suites: one folder per suite; the folder name is the suite name in every record."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Declare one marker per suite folder."""
    for suite in ("smoke",):
        config.addinivalue_line("markers", f"{suite}: the {suite} certification suite")
