"""certify's own tests: never probe hosts outside this machine (Maven Central is unreachable here
anyway); every certify process the tests start inherits this. Ctrl-C (or SIGTERM) stops the
whole suite and leaves nothing running (tests/interrupts.py)."""

import os

from tests.interrupts import (  # noqa: F401  (hooks, found by name)
    pytest_configure,
    pytest_runtest_protocol,
    pytest_unconfigure,
)

os.environ.setdefault("CERTIFY_MAVEN", "off")
