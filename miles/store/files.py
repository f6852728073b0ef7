"""Files a store names are opened only inside it: regular files, no symlink that leaves, read with a cap.

    folder = make_dir(store.path, store.path / "indexes")         # created, or refused if it leads outside
    data = read_inside(store.path, folder / "emb.json", cap=MiB)  # a regular file under the store, or an error
    write_inside(store.path, folder / "emb.json", data)           # a new file renamed into place
    check_file(store.path, folder / "emb.faiss", cap=8 * GiB)     # its size, before a library opens it

A store is data from whoever wrote it: a symlink in it may point at a file of the user's, a FIFO may
never answer, a file may be larger than the memory. Each of those is a ``MilesError`` here, before a byte
is read or written, and a write never follows a symlink (it replaces the link with a new file).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

from miles.errors import MilesError

MiB = 1 << 20
GiB = 1 << 30


def sha256(path: Path) -> str:
    """The sha256 of a file, read in pieces (never cached: it is how a changed file is noticed)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def inside(root: Path, path: Path) -> Path:
    """``path`` fully resolved, or a ``MilesError`` when it (through any symlink on the way) leaves ``root``."""
    real_root, real = Path(root).resolve(), Path(path).resolve()
    if real != real_root and real_root not in real.parents:
        raise MilesError(f"{path} leads outside the store ({real}): Miles reads and writes only inside "
                         f"{root}; remove the link")
    return real


def plain_name(name: str) -> str:
    """A file name a store's own files may use for another file: no folder, no ``..``, not absolute."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise MilesError(f"a store file names {name!r}, which is not a plain file name: the store was changed "
                         "by hand or by something other than Miles")
    return name


def make_dir(root: Path, folder: Path) -> Path:
    """Create ``folder`` under ``root`` one level at a time; a level that exists must be a real folder (not
    a symlink) so nothing is ever created where a link points."""
    root, folder = Path(root), Path(folder)
    rel = folder.relative_to(root)
    here = root
    for part in rel.parts:
        here = here / part
        try:
            st = os.lstat(here)
        except FileNotFoundError:
            here.mkdir(exist_ok=True)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise MilesError(f"{here} is not a folder of the store (a link, or a file): Miles writes only inside "
                             f"{root}; remove it")
    return folder


def check_file(root: Path, path: Path, cap: int) -> int:
    """The size of a regular file under ``root`` (not a link, a FIFO or a device), at most ``cap`` bytes."""
    inside(root, Path(path).parent)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise MilesError(f"{path} is missing from the store") from None
    if not stat.S_ISREG(st.st_mode):
        raise MilesError(f"{path} is not a regular file (a link, a FIFO or a device): Miles reads only the "
                         "store's own files; remove it")
    if st.st_size > cap:
        raise MilesError(f"{path} is {st.st_size / MiB:.0f} MiB, over the {cap / MiB:.0f} MiB a file of this kind "
                         "may be: the store was changed by hand")
    return st.st_size


def read_inside(root: Path, path: Path, cap: int) -> bytes:
    """The bytes of a regular file under ``root``, opened without following a final link or blocking on a
    FIFO, at most ``cap`` bytes."""
    inside(root, Path(path).parent)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise MilesError(f"{path} is missing from the store") from None
    except OSError as err:  # ELOOP: the last part is a symlink
        raise MilesError(f"{path} cannot be opened as a store file ({err.strerror}): remove it") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise MilesError(f"{path} is not a regular file (a FIFO or a device): remove it")
        if st.st_size > cap:
            raise MilesError(f"{path} is {st.st_size / MiB:.0f} MiB, over the {cap / MiB:.0f} MiB a file of this "
                             "kind may be: the store was changed by hand")
        data = f.read(cap + 1)
    if len(data) > cap:
        raise MilesError(f"{path} grew past {cap / MiB:.0f} MiB while it was read")
    return data


def write_inside(root: Path, path: Path, data: bytes) -> None:
    """Write a new file and rename it onto ``path``: a link already there is replaced, never followed."""
    path = Path(path)
    make_dir(root, path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
