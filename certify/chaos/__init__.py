"""Chaos engineering: Chaos Toolkit experiments per cell, with recovery and data-integrity verdicts.

The public entry points: `run_experiment` (one experiment on one cell, as a record) and
`FaultTarget` (what a platform supplies so experiments can inject faults). Heavy imports
(chaoslib) happen only in the experiment's own subprocess.
"""

from certify.platforms.faults import ROLES, FaultTarget, ServiceInfo

__all__ = ["ROLES", "FaultTarget", "ServiceInfo", "run_experiment"]


def __getattr__(name: str) -> object:
    if name == "run_experiment":
        from certify.chaos.runner import run_experiment

        return run_experiment
    raise AttributeError(name)
