"""Root conftest: makes the scenario fixtures in `fixtures/` available to `scenarios/`."""

pytest_plugins = ["certify.pytest.plugin", "fixtures.spark", "fixtures.lakehouse"]
