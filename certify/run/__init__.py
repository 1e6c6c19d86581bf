"""Orchestration of `certify run`: the loop over cells and kinds of evidence, resume and shards."""
