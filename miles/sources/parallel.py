"""``miles ingest --engine ray``: many input files read and normalised at once, one Ray task a file.

    for path, pairs in normalized_files(paths, "auto", {}, None, opts):
        ingest_normalized(pairs, store, ...)      # the driver writes, in the order of the paths

Reading a file, mapping its columns and verifying its thumbnails (``miles.sources.normalize``) is the
work; the tasks do it with the same functions as the local engine, so the stored rows and the rejects
are the same (tested). Writing stays on the driver, under the store's writer lock. A task returns a
whole file's rows: many files of moderate size suit it better than one huge file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from miles.errors import MilesError

log = logging.getLogger(__name__)


def _read_normalized(path: str, fmt: str, user_map: dict, records: str | None, opts):
    from miles.sources.normalize import normalized
    from miles.sources.readers import read

    return list(normalized(read(Path(path), fmt, user_map, records), opts))


def normalized_files(paths: list[Path], fmt: str, user_map: dict, records: str | None, opts,
                     address: str | None = None) -> Iterator[tuple[Path, list]]:
    """(path, [(raw row, canonical row)...]) for each path, in order, computed by Ray tasks in parallel."""
    try:
        import ray
    except ImportError as err:
        raise MilesError("--engine ray needs Ray: pip install 'miles[ray]'") from err
    from miles.cluster import start_ray

    start_ray(address)
    task = ray.remote(_read_normalized)
    refs = [task.remote(str(p), fmt, user_map, records, opts) for p in paths]
    for path, ref in zip(paths, refs):
        yield path, ray.get(ref)
