"""Root conftest: makes the scenario fixtures in `fixtures/` available to `scenarios/`.

`fixtures.isolation` drops what each cell made in shared services when its session ends.
"""

pytest_plugins = [
    "certify.pytest.plugin",
    "fixtures.spark",
    "fixtures.lakehouse",
    "fixtures.isolation",
]
