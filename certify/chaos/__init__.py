"""Chaos engineering: Chaos Toolkit experiments per cell, with recovery and data-integrity verdicts.

The entry point is `certify.chaos.runner.run_experiment` (one experiment on one cell, as a
record); `FaultTarget` (what a platform supplies so experiments can inject faults) is re-exported
here from `certify.platforms.faults`. Heavy imports
(chaoslib) happen only in the experiment's own subprocess.
"""

from certify.platforms.faults import ROLES, FaultTarget, ServiceInfo

__all__ = ["ROLES", "FaultTarget", "ServiceInfo"]
