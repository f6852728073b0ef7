"""The installed versions of the libraries an artifact depends on (recorded with it, checked on load).
Any layer may use it: it imports no Miles code."""

from __future__ import annotations


def library_versions(*names: str) -> dict[str, str]:
    """{distribution name: installed version} for those of ``names`` that are installed."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for n in names:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            pass
    return out
