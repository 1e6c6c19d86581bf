"""Allure results per cell: the cell is a parameter and a label of every Allure test result.

certify starts scenario pytest runs with ``-p certify.pytest.allure --certify-alluredir DIR``.
Where allure-pytest is installed in the runtime, this points it at DIR and adds the cell to
every result: as a parameter (so Allure's historyId, and with it history and retries, is kept
per cell rather than merged across cells), as labels (`cell`, `tier`, one per dimension) and as
the parent suite. Where allure-pytest is missing, it does nothing: the certify report does not
depend on Allure.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """The results folder certify passes."""
    parser.getgroup("certify").addoption(
        "--certify-alluredir", help="write allure-results here, with the cell on every result"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Point allure-pytest at the folder before its own pytest_configure reads the option."""
    folder = config.getoption("certify_alluredir", None)
    if not folder or not config.pluginmanager.hasplugin("allure_pytest"):
        return
    if not getattr(config.option, "allure_report_dir", None):
        config.option.allure_report_dir = folder
    config.pluginmanager.register(_CellLabels(), "certify-allure-cell")


class _CellLabels:
    """Adds the cell to each test result while allure-pytest still holds it open."""

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        """Before allure-pytest computes the historyId (after this teardown's inner hooks)."""
        from certify.pytest.items import item_cell

        cell = item_cell(item)
        if cell is not None:
            import allure

            dynamic: Any = allure.dynamic  # partly untyped upstream
            dynamic.parameter("cell", cell.id)
            dynamic.label("cell", cell.id)
            dynamic.label("tier", cell.tier)
            for dim, value in cell.values.items():
                dynamic.label(f"dim.{dim}", value)
            dynamic.parent_suite(cell.id)
        yield
