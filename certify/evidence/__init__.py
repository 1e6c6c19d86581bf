"""Kinds of evidence behind one Protocol: scenarios, chaos experiments, load profiles.

`KINDS` is the order a cell's evidence is gathered in: its scenarios, then its experiments,
then its load profiles (each possibly under an experiment).
"""

from certify.evidence.chaos import Experiments
from certify.evidence.load import Loads
from certify.evidence.protocol import EvidenceKind, KindJob, Settings
from certify.evidence.scenarios import Scenarios

KINDS: tuple[EvidenceKind, ...] = (Scenarios(), Experiments(), Loads())

__all__ = ["KINDS", "EvidenceKind", "Experiments", "KindJob", "Loads", "Scenarios", "Settings"]
