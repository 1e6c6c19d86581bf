"""Platforms: where a cell runs, what it can run, and the interpreter that runs its scenarios."""

from certify.platforms.base import Platform, Runtime
from certify.platforms.local.platform import LocalPlatform

__all__ = ["LocalPlatform", "Platform", "Runtime", "get_platform"]


def get_platform(name: str) -> Platform:
    """The platform backend called `name`."""
    from certify.errors import UsageError

    if name == "local":
        return LocalPlatform()
    raise UsageError(f"unknown platform {name!r} (valid: local)")
