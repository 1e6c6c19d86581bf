"""The one exception tree of certify: every user-facing failure is a subclass of CertifyError."""

from __future__ import annotations

import signal
from dataclasses import dataclass


class CertifyError(Exception):
    """Base of every error certify reports to a user as one clean message (no traceback)."""

    exit_code = 3


class UsageError(CertifyError):
    """A command was called with arguments that cannot work (unknown profile, bad option value)."""

    exit_code = 2


@dataclass(frozen=True)
class Issue:
    """One problem found in a configuration file, located by file, line and key path."""

    file: str
    line: int
    key: str
    message: str
    valid: str = ""

    def format(self) -> str:
        """Render as `file:line: key.path: what is wrong (valid: ...)`."""
        text = f"{self.file}:{self.line}: {self.key or '<document>'}: {self.message}"
        return f"{text} (valid: {self.valid})" if self.valid else text


class ConfigError(CertifyError):
    """Configuration files are invalid; carries every issue found, not just the first."""

    exit_code = 2

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line, i.key))
        super().__init__("\n".join(i.format() for i in self.issues))


class InfrastructureError(CertifyError):
    """The platform or a tool certify depends on failed (JVM missing, pytest crashed, disk full)."""

    exit_code = 3


class ExperimentError(UsageError):
    """An experiment file is missing, unreadable or invalid; the message names file, key and fix."""


class ControlError(Exception):
    """The fault target refused or failed a request; the message says why."""


class StatsError(ValueError):
    """A locust stats file is missing or not in locust's format."""


class LoadError(UsageError):
    """A load run was asked to do something it must not (a non-loopback endpoint)."""


class ProfileError(ValueError):
    """A locustfile is missing or declares something certify cannot use."""


class UnusableReport(UsageError):
    """A report that is missing, truncated, not JSON or not a valid certify.report/1 document."""

    exit_code = 2


class Cancelled(Exception):
    """The run was interrupted: no further cell starts, and a stopped cell records nothing."""


class Interrupted(Exception):
    """certify received SIGINT or SIGTERM while a child ran."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum
