"""certify's own tests: never probe hosts outside this machine (Maven Central is unreachable here
anyway); every certify process the tests start inherits this."""

import os

os.environ.setdefault("CERTIFY_MAVEN", "off")
