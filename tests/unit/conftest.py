"""Unit tests never download: Maven is switched off for them (and every process they start).

Integration and acceptance tests resolve jars for real, through `mvn`, into the machine's cache
(`.certify/jars`), so the large ones are fetched once per machine.
"""

import os

os.environ["CERTIFY_MAVEN"] = "off"
