"""A stranger's store cannot reach outside itself: a lock or index folder that is a link, a FIFO or a giant
sparse file where an index should be — each is one clear refusal, before anything is written or read."""

import os
import shutil
import struct

import pytest

from miles.errors import MilesError
from miles.store import Store
from miles.store.index import build_indexes, load_index
from miles.store.lock import writer_lock
from tests.conftest import refused_within


@pytest.fixture
def copy(demo_store, tmp_path):
    return Store.open(shutil.copytree(demo_store.path, tmp_path / "store", symlinks=True))


def test_a_lock_that_is_a_link_is_refused_and_the_file_it_names_is_untouched(copy, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    lock = copy.path / ".miles-write.lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(victim)
    with pytest.raises(MilesError, match="lock file"):
        with writer_lock(copy, "index"):
            pass
    assert victim.read_text() == "precious"


def test_a_lock_that_is_a_fifo_is_refused_without_waiting(copy):
    lock = copy.path / ".miles-write.lock"
    lock.unlink(missing_ok=True)
    os.mkfifo(lock)
    with pytest.raises(MilesError, match="not a regular file"):
        with writer_lock(copy, "index", timeout=1):
            pass


def test_an_indexes_folder_that_is_a_link_gets_nothing_written_where_it_points(copy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(copy.path / "indexes")
    (copy.path / "indexes").symlink_to(elsewhere)
    with pytest.raises(MilesError, match="not a folder of the store"):
        build_indexes(copy, force=True)
    assert list(elsewhere.iterdir()) == []


def test_an_index_file_that_is_a_link_is_replaced_not_followed(copy, tmp_path):
    victim = tmp_path / "victim.faiss"
    victim.write_bytes(b"precious")
    path = copy.path / "indexes" / "emb_text_minilm.faiss"
    path.unlink()
    path.symlink_to(victim)
    build_indexes(copy, ["emb_text_minilm"], force=True)
    assert victim.read_bytes() == b"precious" and not path.is_symlink()
    assert load_index(copy, "emb_text_minilm").index.ntotal == copy.count("emb_text_minilm")


def test_a_fifo_where_the_index_should_be_is_refused_without_hanging(copy):
    path = copy.path / "indexes" / "emb_text_minilm.faiss"
    path.unlink()
    os.mkfifo(path)
    err = refused_within(20, lambda: load_index(copy, "emb_text_minilm", rebuild_stale=False))
    assert isinstance(err, MilesError) and "not a regular file" in str(err)


def test_a_huge_sparse_index_with_a_consistent_header_is_refused_before_faiss_reads_it(copy):
    path = copy.path / "indexes" / "emb_text_minilm.faiss"
    head = path.read_bytes()[:45]
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(30 * 2**30)  # 30 GB, sparse: no disk used
    with pytest.raises(MilesError, match="MiB"):
        load_index(copy, "emb_text_minilm", rebuild_stale=False)


def test_a_tampered_index_header_is_a_clear_error_not_a_bug(copy):
    path = copy.path / "indexes" / "emb_text_minilm.faiss"
    data = bytearray(path.read_bytes())
    data[4:16] = struct.pack("<iq", 384, 10**12)  # a header naming a trillion vectors
    path.write_bytes(bytes(data))
    with pytest.raises(MilesError, match="miles index --force"):
        load_index(copy, "emb_text_minilm", rebuild_stale=False)
    data[4:16] = struct.pack("<iq", 384, copy.count("emb_text_minilm"))
    data[37:45] = struct.pack("<Q", 2**62)  # its vectors' size
    path.write_bytes(bytes(data))
    with pytest.raises(MilesError, match="miles index --force"):
        load_index(copy, "emb_text_minilm", rebuild_stale=False)
