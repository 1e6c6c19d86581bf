"""Shared fixtures of the integration tests: Spark homes of the runtimes, isolated state folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from certify.platforms.capabilities import host_spark_home, spark_home_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def spark35_home() -> Path:
    """The pyspark 3.5 installation of the interpreter running the tests."""
    home = host_spark_home()
    if home is None:
        pytest.fail("the test interpreter has no pyspark (pip install -e '.[test]')")
    return home


@pytest.fixture(scope="session")
def spark41_home(spark41_python: Path) -> Path:
    """The pyspark 4.1 installation of the Spark 4.1 runtime."""
    home = spark_home_of(spark41_python)
    assert home is not None
    return home
