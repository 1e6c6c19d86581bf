"""The `certify` command line."""

from certify.cli.app import app, main

__all__ = ["app", "main"]
