"""Runs mirrored to MLflow (a real sqlite tracking store): what the store holds, once, and never a failed train."""

import json
import shutil

import pytest

from miles.cli import main
from miles.errors import MilesError
from miles.eval.mirror import RUN_TAG, mirror_runs
from miles.store import Store

mlflow = pytest.importorskip("mlflow", reason="the MLflow tests need `pip install 'miles[mlflow]'`")


def _runs(uri, kind=None):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("miles")
    where = f"tags.`miles.kind` = '{kind}'" if kind else f"tags.`{RUN_TAG}` LIKE '%'"
    return client, client.search_runs([exp.experiment_id], filter_string=where, max_results=5000)


def test_every_run_is_mirrored_once_with_its_metrics_intervals_and_artifacts(demo_store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow puts a sqlite store's artifacts in ./mlruns
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    report = tmp_path / "report.html"
    report.write_text("<html>the report</html>")
    stored = {r["run_id"]: r for r in demo_store.read("runs").to_pylist()}
    first = mirror_runs(demo_store, uri, report=report)
    assert sorted(first.mirrored) == sorted(stored) and not first.failed
    again = mirror_runs(demo_store, uri)
    assert again.mirrored == [] and sorted(again.skipped) == sorted(stored)  # idempotent
    client, runs = _runs(uri)
    assert sorted(r.data.tags[RUN_TAG] for r in runs) == sorted(stored)  # one MLflow run per store run
    for r in runs:
        row = stored[r.data.tags[RUN_TAG]]
        assert r.data.params["head"] == row["head"] and r.data.params["moment"] == row["moment"]
        assert r.data.params["label_spec.viral_fraction"] == str(json.loads(row["config"])["label_spec"]["viral_fraction"])
        for name, m in json.loads(row["metrics"]).items():
            assert r.data.metrics[name] == pytest.approx(m["value"], nan_ok=True)  # a constant velocity: no Spearman
            assert r.data.metrics[f"{name}_ci_low"] == pytest.approx(m["ci_low"], nan_ok=True)
            assert r.data.metrics[f"{name}_ci_high"] == pytest.approx(m["ci_high"], nan_ok=True)
        assert any(k.startswith("miles.store_version.") for k in r.data.tags)
    _, trains = _runs(uri, "train")
    deployed = [r for r in trains if "miles.head_artifact" not in r.data.tags]
    assert deployed, "no train run carries its head"
    for r in deployed:
        files = {a.path for a in client.list_artifacts(r.info.run_id, "head")}
        assert {"head/head.json", "head/viral"} <= files
    _, batches = _runs(uri, "eval batch")
    with_report = [b for b in batches if client.list_artifacts(b.info.run_id)]
    assert len(with_report) == 1  # the report belongs to the newest eval only
    _, evals = _runs(uri, "eval")
    assert {e.data.tags["mlflow.parentRunId"] for e in evals} <= {b.info.run_id for b in batches}


def test_a_tracking_failure_warns_and_training_still_succeeds(demo_store, tmp_path, caplog, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow puts a sqlite store's artifacts in ./mlruns
    store_dir = tmp_path / "store"
    shutil.copytree(demo_store.path, store_dir, symlinks=True)
    before = Store.open(store_dir).count("runs")
    (tmp_path / "a-file").write_text("not a folder")
    bad = f"sqlite:///{tmp_path / 'a-file' / 'mlflow.db'}"  # a tracking store that cannot be opened
    rc = main(["-q", "train", "--store", str(store_dir), "--heads", "creator_prior", "--mlflow", "--tracking-uri", bad])
    assert rc == 0
    assert Store.open(store_dir).count("runs") == before + 1  # trained and recorded
    assert "could not mirror the runs to MLflow" in caplog.text
    good = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert main(["-q", "runs", "export", "--store", str(store_dir), "--mlflow", "--tracking-uri", good]) == 0
    _, runs = _runs(good)
    assert len(runs) == before + 1  # sent later, as the warning says


def test_without_mlflow_the_message_says_what_to_install(demo_store, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    with pytest.raises(MilesError, match=r"pip install 'miles\[mlflow\]'"):
        mirror_runs(demo_store, "sqlite:///unused.db")
