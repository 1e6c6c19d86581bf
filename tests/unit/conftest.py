"""Unit tests never download: Maven is switched off for each of them (and every process they
start), through an autouse fixture: a process-wide setting here would reach the integration and
acceptance tests too, whenever one pytest run collects the whole tree.

Integration and acceptance tests resolve jars for real, through `mvn`, into the machine's cache
(`.certify/jars`), so the large ones are fetched once per machine.
"""

import pytest


@pytest.fixture(autouse=True)
def _maven_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CERTIFY_MAVEN", "off")
