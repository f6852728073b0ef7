"""Queries: SQL over the store, similar-video search, predict / explain / recommend."""

from __future__ import annotations

from miles.queries.sql import ReadOnlyError, sql

__all__ = ["ReadOnlyError", "sql"]
