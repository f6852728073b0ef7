"""Where a store lives: a local folder or an S3 prefix, and the few file operations Miles needs there.

    >>> loc = Location("s3://bucket/miles")          # endpoint and keys from the AWS_* environment
    >>> loc.table_uri("videos"), loc.storage_options # what Lance and LanceDB open
    >>> loc.write_bytes("indexes/emb.json", b"{}"); loc.read_bytes("indexes/emb.json")

Tables are read and written by Lance itself; everything else in a store (head folders, FAISS index files,
their metadata) goes through this class, so no other module globs, sizes or lists a store. On object
storage the files are moved with pyarrow's filesystem (one client, built from the same environment as
Lance's options): ``AWS_ENDPOINT_URL``, ``AWS_ALLOW_HTTP``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``).
"""

from __future__ import annotations

import hashlib
import os
from functools import cached_property
from pathlib import Path

from miles.bounded import Bounded
from miles.errors import MilesError

SCHEMES = ("s3",)
_OPTIONS = {  # environment variable -> Lance storage option
    "AWS_ENDPOINT_URL": "aws_endpoint", "AWS_ACCESS_KEY_ID": "aws_access_key_id",
    "AWS_SECRET_ACCESS_KEY": "aws_secret_access_key", "AWS_SESSION_TOKEN": "aws_session_token",
}


REMOTE_VERSION_SECONDS = 1.0


def recent(size: int = 256) -> Bounded:
    """A cache of answers read from object storage (a table's version, a pointer), each kept for
    ``REMOTE_VERSION_SECONDS`` and forgotten when this process writes what it describes."""
    return Bounded(size, max_age=REMOTE_VERSION_SECONDS)


def is_remote(where: str | os.PathLike[str]) -> bool:
    """True for ``scheme://...`` (refused unless the scheme is one Miles supports)."""
    text = str(where)
    if "://" not in text:
        return False
    scheme = text.split("://", 1)[0].lower()
    if scheme not in SCHEMES:
        raise MilesError(f"store {text}: Miles stores live in a local folder or on S3 (s3://bucket/prefix), "
                         f"not {scheme}://")
    return True


def s3_settings() -> dict[str, str]:
    """The S3 settings from the environment, as Lance's storage options (the one place they are read)."""
    opts = {opt: os.environ[var] for var, opt in _OPTIONS.items() if os.environ.get(var)}
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        opts["aws_region"] = region
    allow = os.environ.get("AWS_ALLOW_HTTP", "").strip().lower() in ("1", "true", "yes")
    if opts.get("aws_endpoint", "").startswith("http://"):
        if not allow:
            raise MilesError(f"AWS_ENDPOINT_URL is {opts['aws_endpoint']} (plain http): set AWS_ALLOW_HTTP=true "
                             "to use an unencrypted endpoint")
        opts["allow_http"] = "true"
    return opts


class Location:
    """A store's place. ``uri`` is the folder as given (local) or ``s3://bucket/prefix``."""

    def __init__(self, where: str | os.PathLike[str]):
        self.remote = is_remote(where)
        if self.remote:
            scheme, rest = str(where).split("://", 1)
            if not rest.strip("/"):
                raise MilesError(f"store {where}: name a bucket, as in s3://bucket/prefix")
            self.uri = f"{scheme.lower()}://{rest.strip('/')}"
        else:
            self.uri = str(Path(where))

    def __str__(self) -> str:
        return self.uri

    @property
    def name(self) -> str:
        return self.uri.rstrip("/").rsplit("/", 1)[-1]

    @property
    def key(self) -> str:
        """One name per store however it was written (relative or absolute): for caches."""
        return self.uri if self.remote else str(Path(self.uri).resolve())

    @cached_property
    def storage_options(self) -> dict[str, str] | None:
        return s3_settings() if self.remote else None

    def table_uri(self, name: str) -> str:
        return f"{self.uri}/{name}.lance"

    @cached_property
    def cache_dir(self) -> Path:
        """A local folder for what is fetched from an object store (``$MILES_CACHE_DIR/stores/<hash>``)."""
        base = Path(os.environ.get("MILES_CACHE_DIR") or Path.home() / ".cache" / "miles")
        return base / "stores" / hashlib.sha256(self.uri.encode()).hexdigest()[:16]

    # ---- files --------------------------------------------------------------------------------
    @cached_property
    def _fs(self):
        import pyarrow.fs as pafs

        if not self.remote:
            return pafs.LocalFileSystem(), str(Path(self.uri).resolve())
        opts = self.storage_options
        endpoint = opts.get("aws_endpoint")
        scheme, _, host = endpoint.partition("://") if endpoint else ("https", "", None)
        fs = pafs.S3FileSystem(access_key=opts.get("aws_access_key_id"), secret_key=opts.get("aws_secret_access_key"),
                               session_token=opts.get("aws_session_token"), region=opts.get("aws_region"),
                               endpoint_override=host or None, scheme=scheme, allow_bucket_creation=False)
        return fs, self.uri.split("://", 1)[1]

    def _path(self, rel: str = "") -> str:
        root = self._fs[1]
        return f"{root}/{rel}".rstrip("/") if rel else root

    def _info(self, rel: str = ""):
        try:
            return self._fs[0].get_file_info(self._path(rel))
        except OSError as err:
            raise MilesError(f"cannot reach store {self.uri}: {str(err).splitlines()[0]}") from err

    def exists(self, rel: str = "") -> bool:
        import pyarrow.fs as pafs

        return self._info(rel).type != pafs.FileType.NotFound

    def is_dir(self, rel: str = "") -> bool:
        import pyarrow.fs as pafs

        return self._info(rel).type == pafs.FileType.Directory

    def folders(self, suffix: str = "") -> list[str]:
        """Names of the folders directly in the store whose name ends with ``suffix``."""
        import pyarrow.fs as pafs

        if not self.is_dir():
            return []
        infos = self._fs[0].get_file_info(pafs.FileSelector(self._path(), allow_not_found=True))
        return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory and i.base_name.endswith(suffix))

    def files(self, rel: str) -> list[tuple[str, int]]:
        """(path relative to ``rel``, bytes) of every file under ``rel``."""
        import pyarrow.fs as pafs

        base = self._path(rel)
        infos = self._fs[0].get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
        return [(i.path[len(base) + 1:], i.size) for i in infos if i.type == pafs.FileType.File]

    def read_bytes(self, rel: str) -> bytes:
        # A random-access file reads an object in one request; pyarrow's input *stream* read a 150 MB
        # object from a local S3 server 200x slower, in small pieces.
        with self._fs[0].open_input_file(self._path(rel)) as f:
            return f.read()

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write one file (one PUT on object storage: readers see the old bytes or the new, never half)."""
        fs, _ = self._fs
        if not self.remote:
            Path(self._path(rel)).parent.mkdir(parents=True, exist_ok=True)
        with fs.open_output_stream(self._path(rel)) as f:
            f.write(data)

    def remove(self, rel: str) -> None:
        """Delete a file or a folder and everything in it; absent is fine."""
        import pyarrow.fs as pafs

        info = self._info(rel)
        if info.type == pafs.FileType.Directory:
            self._fs[0].delete_dir(self._path(rel))
        elif info.type == pafs.FileType.File:
            self._fs[0].delete_file(self._path(rel))

    def upload(self, folder: Path, rel: str) -> None:
        """Copy a local folder's files to ``rel``."""
        for f in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            self.write_bytes(f"{rel}/{f.relative_to(folder).as_posix()}", f.read_bytes())

    def download(self, rel: str, folder: Path) -> Path:
        """Copy the files under ``rel`` into a local folder, which appears whole or not at all."""
        folder = Path(folder)
        if folder.is_dir():
            return folder
        tmp = folder.with_name(f".{folder.name}.{os.getpid()}.part")
        for name, _ in self.files(rel):
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(self.read_bytes(f"{rel}/{name}"))
        tmp.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process fetched it first
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        return folder
