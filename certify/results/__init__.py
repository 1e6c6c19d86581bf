"""Durable outcome records: the Record model and the run folder's SQLite store."""

from certify.results.record import STATUSES, Record
from certify.results.store import RecordStore

__all__ = ["STATUSES", "Record", "RecordStore"]
