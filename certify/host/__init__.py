"""Host plumbing, the bottom of certify: child processes, signals, provenance and atomic files.

Nothing here knows about cells, platforms or reports; every other layer may use it.
"""
