"""The HTTP API and dashboard: not built yet."""
