"""The store: LanceDB tables in one local folder or under one S3 prefix (``miles.store.location``).

>>> store = Store.open("miles-store")      # or Store.open("s3://bucket/miles")
>>> store.upsert("videos", rows)          # idempotent, keyed on video_id
>>> store.read("snapshots", columns=["video_id", "views"])

Every write is an idempotent upsert on the table's key (``schema.KEYS``); a write that changes nothing
makes no new Lance version. Heavy readers (DuckDB, training) get a pinned ``lance`` dataset.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from miles.bounded import Bounded
from miles.errors import MilesError
from miles.store.diff import compared, diff, row_key
from miles.store.location import Location, recent
from miles.store.migrate import add_missing_columns
from miles.store.schema import KEYS, SCHEMAS

log = logging.getLogger(__name__)

DEFAULT_STORE = "miles-store"
_VERSIONS = Bounded(256)  # a table's _versions folder -> (its stamp, the latest version)
_METADATA = Bounded(256)  # (table, version) -> its schema metadata
_PRESENT = Bounded(1024)  # tables seen on object storage
_REMOTE_VERSIONS = recent()


def resolve_store_path(path: str | os.PathLike[str] | None = None) -> str:
    """``path`` if given, else ``$MILES_STORE``, else ``./miles-store`` (a folder or ``s3://bucket/prefix``)."""
    return str(path or os.environ.get("MILES_STORE") or DEFAULT_STORE)


@dataclass(frozen=True)
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: tuple = ()  # with update=False: (row, stored row) pairs whose key is stored with other values


class Store:
    """A Miles store: a local folder or an object-store prefix. Tables are created on first write with
    their canonical schema; a local folder too (opening a store to read never creates anything)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.location = Location(path)
        self._db = None

    def __str__(self) -> str:
        return self.location.uri

    @property
    def uri(self) -> str:
        return self.location.uri

    @property
    def remote(self) -> bool:
        return self.location.remote

    @property
    def path(self) -> Path:
        """The local folder (a store on object storage has none: its files go through ``location``)."""
        if self.remote:
            raise MilesError(f"store {self} is on object storage: this needs a local store folder")
        return Path(self.location.uri)

    @property
    def local_dir(self) -> Path:
        """A local folder for what a command writes beside the store (a report): the store's own folder,
        or its local cache for a store on object storage."""
        return self.location.cache_dir if self.remote else self.path

    @property
    def db(self):
        """The LanceDB connection, opened on first write (reads go through ``lance`` datasets, which
        start faster: ``miles sql`` never imports lancedb)."""
        if self._db is None:
            import lancedb

            if not self.remote:
                self.path.mkdir(parents=True, exist_ok=True)
            self._db = lancedb.connect(self.uri, storage_options=self.location.storage_options)
        return self._db

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, must_exist: bool = False) -> Store:
        store = cls(resolve_store_path(path))
        if must_exist and not store.exists():
            raise MilesError(f"no Miles store at {store}: create one with `miles ingest PATH --store "
                                    f"{store}` or `miles demo --store {store}`")
        return store

    def exists(self) -> bool:
        """A local folder that exists, or a prefix with at least one table."""
        return bool(self.table_names()) if self.remote else self.location.is_dir()

    # ---- tables -------------------------------------------------------------------------------
    def table_names(self) -> list[str]:
        return [n[: -len(".lance")] for n in self.location.folders(".lance") if not n.startswith(".")]

    def has(self, name: str) -> bool:
        """Is the table there? Locally, once its first version is committed (another process creating it
        makes the folder first); on object storage a request each time it is not known to be (Miles never
        removes a table, so one seen is remembered)."""
        if not self.remote:
            return self.location.is_dir(f"{name}.lance/_versions")
        key = f"{self.uri}/{name}"
        if key not in _PRESENT:
            if not self.location.is_dir(f"{name}.lance"):
                return False
            _PRESENT.put(key, True)
        return True

    def table(self, name: str):
        if not self.has(name):
            raise KeyError(f"store {self} has no table {name!r}; it has {self.table_names()}")  # internal: a bug, not input
        return self.db.open_table(name)

    def create(self, name: str, schema: pa.Schema, *, exist_ok: bool = True):
        if self.has(name):
            if not exist_ok:
                raise FileExistsError(f"table {name!r} already exists in {self}")  # internal: a bug, not input
            return self.db.open_table(name)
        return self.db.create_table(name, schema=schema)

    def dataset(self, name: str, version: int | None = None):
        """The table as a ``lance.LanceDataset`` (pinned to ``version`` when given)."""
        import lance

        return lance.dataset(self.location.table_uri(name), version=version,
                             storage_options=self.location.storage_options)

    def version(self, name: str) -> int:
        """The table's latest Lance version. Opening a dataset reads its manifest (about a millisecond), and
        queries ask this many times per answer, so the version is remembered for as long as the table's
        ``_versions`` folder looks unchanged: the same mtime (every commit adds a manifest there) and the same
        ``latest_version_hint.json`` (Lance rewrites it on each commit; two commits within one mtime tick
        still differ there). On object storage there is no folder to watch and asking costs a few requests
        (about 40 ms): the answer is kept for a second (``location.recent``), so a write by another process is
        seen within a second."""
        if self.remote:
            return _REMOTE_VERSIONS.get(f"{self.uri}/{name}", lambda: self._asked_version(name))
        if not self.has(name):
            raise KeyError(f"store {self} has no table {name!r}; it has {self.table_names()}")  # internal: a bug, not input
        folder = self.path / f"{name}.lance" / "_versions"
        try:
            stamp = (folder.stat().st_mtime_ns, (folder / "latest_version_hint.json").read_bytes())
        except OSError:
            return self.dataset(name).version
        return _VERSIONS.get(str(folder), lambda: (stamp, self.dataset(name).version),
                             valid=lambda hit: hit[0] == stamp)[1]

    def _asked_version(self, name: str) -> int:
        if not self.has(name):
            raise KeyError(f"store {self} has no table {name!r}; it has {self.table_names()}")  # internal: a bug, not input
        return self.dataset(name).version

    def count(self, name: str) -> int:
        return self.dataset(name).count_rows() if self.has(name) else 0

    def read(
        self,
        name: str,
        columns: list[str] | None = None,
        filter: pc.Expression | str | None = None,
        version: int | None = None,
    ) -> pa.Table:
        """Read a table (or some columns and rows of it); an absent canonical table reads as empty."""
        if not self.has(name):
            schema = SCHEMAS.get(name)
            if schema is None:
                raise KeyError(f"store {self} has no table {name!r}; it has {self.table_names()}")  # internal: a bug, not input
            return schema.empty_table().select(columns) if columns else schema.empty_table()
        return self.dataset(name, version).to_table(columns=columns, filter=filter)

    # ---- writes -------------------------------------------------------------------------------
    def upsert(self, name: str, rows: pa.Table | list[dict[str, Any]], *, update: bool = True) -> UpsertResult:
        """Insert rows whose key is new; with ``update``, replace rows whose key exists but whose values
        differ. Rows equal to what is stored are left alone, so a repeated write makes no new version."""
        schema = SCHEMAS[name]
        table = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows, schema=schema)
        table = table.select(schema.names).cast(schema)
        if table.num_rows == 0:
            return UpsertResult()
        add_missing_columns(self, name)  # a table from an older Miles: its new nullable columns first
        keys = KEYS[name]
        existing = self._existing(name, table, keys, compared(schema, keys))
        new_mask, changed_mask, stored = diff(table, existing, keys, schema)
        n_new = int(sum(new_mask))
        n_changed = int(sum(changed_mask)) if update else 0
        conflicts = () if update else tuple(
            (r, stored[row_key(r, keys)]) for r, c in zip(table.to_pylist(), changed_mask) if c)
        to_write = table.filter(pa.array([n or (c and update) for n, c in zip(new_mask, changed_mask, strict=False)]))
        if to_write.num_rows:
            tbl = self.create(name, schema)
            merge = tbl.merge_insert(keys if len(keys) > 1 else keys[0])
            if update:
                merge = merge.when_matched_update_all()
            merge.when_not_matched_insert_all().execute(to_write)
            self.wrote(name)
        return UpsertResult(inserted=n_new, updated=n_changed,
                            unchanged=table.num_rows - n_new - n_changed - len(conflicts), conflicts=conflicts)

    def _existing(self, name: str, table: pa.Table, keys: list[str], columns: list[str]) -> pa.Table | None:
        """The stored rows sharing a key with ``table``: the key and compared columns only."""
        if not self.has(name):
            return None
        first = keys[0]
        ids = pc.unique(table[first])
        return self.dataset(name).to_table(columns=keys + columns, filter=pc.field(first).isin(ids))

    def insert_new(self, name: str, rows: pa.Table | list[dict[str, Any]]) -> None:
        """Insert rows whose key is not stored yet, without reading the table first (for writers whose keys
        are fresh, such as a new run's predictions); a key already stored is left as it is."""
        schema = SCHEMAS[name]
        table = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows, schema=schema)
        table = table.select(schema.names).cast(schema)
        if table.num_rows:
            add_missing_columns(self, name)
            keys = KEYS[name]
            self.create(name, schema).merge_insert(keys if len(keys) > 1 else keys[0]) \
                .when_not_matched_insert_all().execute(table)
            self.wrote(name)

    def merge(self, name: str, table: pa.Table, keys: list[str]) -> None:
        """Upsert ``table`` into an existing table on ``keys`` without comparing values first (for writers
        that already know every row is new or changed, such as the embedding job)."""
        if table.num_rows:
            tbl = self.table(name)
            tbl.merge_insert(keys if len(keys) > 1 else keys[0]).when_matched_update_all() \
                .when_not_matched_insert_all().execute(table)
            self.wrote(name)

    def wrote(self, name: str) -> None:
        """This process wrote ``name``: its next ``version`` asks the store (a local store sees it anyway)."""
        _REMOTE_VERSIONS.forget(f"{self.uri}/{name}")

    def compact(self, name: str, max_fragments: int = 64) -> bool:
        """Merge the table's small fragments once there are more than ``max_fragments`` (a collector that
        commits every few minutes makes many); reads stay fast. True when it compacted."""
        if not self.has(name):
            return False
        ds = self.dataset(name)
        if len(ds.get_fragments()) <= max_fragments:
            return False
        ds.optimize.compact_files()
        self.wrote(name)
        return True

    def metadata(self, name: str) -> dict[str, str]:
        """The table's schema metadata (for embedding tables: the encoder fingerprint), read once per version."""
        key = (f"{self.location.key}/{name}.lance", self.version(name))

        def read() -> dict[str, str]:
            meta = self.dataset(name, key[1]).schema.metadata or {}
            return {k.decode(): v.decode() for k, v in meta.items()}

        return dict(_METADATA.get(key, read))

    # ---- info ---------------------------------------------------------------------------------
    def info(self) -> list[dict[str, Any]]:
        """One dict per table: name, rows, Lance version, bytes stored."""
        out = []
        for name in self.table_names():
            ds = self.dataset(name)
            size = sum(n for _, n in self.location.files(f"{name}.lance"))
            out.append({"table": name, "rows": ds.count_rows(), "version": ds.version, "bytes": size})
        return out

