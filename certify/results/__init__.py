"""Durable outcome records: the Record model and the run folder's SQLite store."""

from certify.results.record import KINDS, STATUSES, Outcome, Record
from certify.results.store import RecordStore

__all__ = ["KINDS", "STATUSES", "Outcome", "Record", "RecordStore"]
