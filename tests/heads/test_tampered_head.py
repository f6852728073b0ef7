"""A head folder is data: a config naming files outside it, a FIFO, a file changed since training or a
tampered LightGBM model is one clear refusal — never a read of /dev/zero, a hang or a crash."""

import json
import os
import shutil

import pytest

from miles.errors import MilesError
from miles.heads.deployed import head_dir, load_deployed, read_meta, write_manifest
from miles.heads.lgb_check import TamperedModel
from miles.store import Store
from tests.conftest import refused_within


@pytest.fixture
def copy(demo_store, tmp_path):
    return Store.open(shutil.copytree(demo_store.path, tmp_path / "store", symlinks=True))


def test_the_demo_head_loads_and_its_manifest_covers_every_file(copy):
    fitted, meta = load_deployed(copy, "lightgbm")
    listed = json.loads((head_dir(copy, "lightgbm") / "manifest.json").read_text())["files"]
    assert "viral/model.txt" in listed and "head.json" in listed and len(fitted.resamples) == len(meta["resamples"])


@pytest.mark.parametrize("target", ["/dev/zero", "../../../../../../etc/hostname", "/nonexistent/secret"])
def test_a_config_naming_a_file_outside_the_folder_is_refused(copy, target):
    viral = head_dir(copy, "lightgbm") / "viral"
    cfg = json.loads((viral / "config.json").read_text())
    cfg["files"].append(target)
    (viral / "config.json").write_text(json.dumps(cfg))
    write_manifest(head_dir(copy, "lightgbm"))  # even with the manifest rewritten to match
    err = refused_within(30, lambda: load_deployed(copy, "lightgbm"))
    assert isinstance(err, MilesError) and "not a plain file name" in str(err)
    assert "secret" not in str(err) or "nonexistent" in target


def test_a_file_changed_after_training_is_refused(copy):
    model = head_dir(copy, "lightgbm") / "viral" / "model.txt"
    model.write_text(model.read_text().replace("num_leaves=", "num_leaves= ", 1))
    with pytest.raises(MilesError, match="changed after training"):
        load_deployed(copy, "lightgbm")


def test_a_link_or_an_extra_file_in_the_folder_is_refused(copy, tmp_path):
    folder = head_dir(copy, "lightgbm")
    (folder / "viral" / "extra.txt").symlink_to(tmp_path)
    with pytest.raises(MilesError, match="not a regular file"):
        load_deployed(copy, "lightgbm")


@pytest.mark.parametrize("name", ["head.json", "manifest.json", "viral/model.txt"])
def test_a_fifo_in_the_folder_is_refused_without_hanging(copy, name):
    path = head_dir(copy, "lightgbm") / name
    path.unlink()
    os.mkfifo(path)
    err = refused_within(30, lambda: load_deployed(copy, "lightgbm"))
    assert isinstance(err, MilesError), err


def test_a_tampered_model_with_a_matching_manifest_is_refused_before_lightgbm_reads_it(copy):
    model = head_dir(copy, "lightgbm") / "viral" / "model.txt"
    text = model.read_text()
    at = text.index("\nsplit_feature=") + len("\nsplit_feature=")
    model.write_text(text[:at] + "900000000 " + text[at:].split(" ", 1)[1])
    write_manifest(head_dir(copy, "lightgbm"))
    with pytest.raises(TamperedModel):
        load_deployed(copy, "lightgbm")


def test_a_head_json_that_is_not_json_is_a_clear_error(copy):
    (head_dir(copy, "lightgbm") / "head.json").write_bytes(b"\xff\x00 not json")
    with pytest.raises(MilesError, match="not a head's description"):
        read_meta(copy, "lightgbm")
