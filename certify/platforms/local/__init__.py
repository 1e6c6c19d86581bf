"""The embedded local platform: real processes on this machine, shared by a run's cells."""

from certify.platforms.local.platform import LocalPlatform

__all__ = ["LocalPlatform"]
