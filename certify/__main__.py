"""`python -m certify` runs the CLI."""

from certify.cli import main

main()
