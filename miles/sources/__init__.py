"""Sources: readers that turn outside data into canonical store rows, with honest rejects."""

from __future__ import annotations

from miles.sources.ingest import IngestSummary, ingest

__all__ = ["IngestSummary", "ingest"]
