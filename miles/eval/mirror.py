"""Mirror the store's runs to MLflow: the store stays the source of truth, MLflow is a window on it.

    report = mirror_runs(store, tracking_uri="sqlite:///mlflow.db", experiment="miles")
    report.mirrored, report.skipped, report.failed

Each row of ``runs`` becomes one MLflow run: params (kind, head, moment, split, features, sizes, the label
spec), metrics with their interval bounds (``auroc``, ``auroc_ci_low``, ``auroc_ci_high``...), tags (the
Miles run id, store versions, encoder fingerprints), and artifacts: the run's rows of ``predictions`` as
CSV and, for a ``train`` run whose head is still the deployed one, the head's folder. The runs of one
``miles eval`` (one ``created_at``) hang under a parent run that carries the HTML report when one is
given. A run already mirrored (tag ``miles.run_id``) is skipped, so mirroring twice adds nothing.
MLflow is imported only here, and only when asked for (``pip install 'miles[mlflow]'``).
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow.compute as pc

from miles.errors import MilesError
from miles.store import Store

log = logging.getLogger(__name__)
RUN_TAG = "miles.run_id"
BATCH_TAG = "miles.eval_batch"


@dataclass
class MirrorReport:
    mirrored: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        return (f"mirrored {len(self.mirrored)} runs to MLflow, {len(self.skipped)} already there"
                + (f", {len(self.failed)} failed" if self.failed else ""))


def _client(tracking_uri: str | None):
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as err:
        raise MilesError("mirroring to MLflow needs MLflow: pip install 'miles[mlflow]'") from err
    return MlflowClient(tracking_uri=tracking_uri)


def _experiment(client, name: str) -> str:
    exp = client.get_experiment_by_name(name)
    return exp.experiment_id if exp is not None else client.create_experiment(name)


def _tagged(client, exp_id: str, tag: str) -> dict[str, str]:
    """{tag value: MLflow run id} of every run in the experiment that has ``tag``."""
    out, token = {}, None
    while True:
        page = client.search_runs([exp_id], filter_string=f"tags.`{tag}` LIKE '%'", max_results=1000,
                                  page_token=token)
        out.update({r.data.tags[tag]: r.info.run_id for r in page})
        token = page.token
        if not token:
            return out


def mirror_runs(store: Store, tracking_uri: str | None = None, experiment: str = "miles",
                since: datetime | None = None, report: str | Path | None = None) -> MirrorReport:
    """Mirror every run of ``store`` (created at or after ``since``) not yet in ``experiment``; ``report``
    (an HTML file) goes to the newest eval's parent run."""
    client = _client(tracking_uri)
    exp_id = _experiment(client, experiment)
    runs = store.read("runs").to_pylist()
    if since is not None:
        runs = [r for r in runs if r["created_at"] >= since]
    runs.sort(key=lambda r: (r["created_at"], r["run_id"]))
    done, parents = _tagged(client, exp_id, RUN_TAG), _tagged(client, exp_id, BATCH_TAG)
    out = MirrorReport(skipped=[r["run_id"] for r in runs if r["run_id"] in done])
    todo = [r for r in runs if r["run_id"] not in done]
    if not todo:
        return out
    preds = store.read("predictions", filter=pc.field("run_id").isin([r["run_id"] for r in todo])).to_pandas()
    newest_eval = max((r["created_at"] for r in runs if r["kind"] == "eval"), default=None)
    for run in todo:
        try:
            parent = None
            if run["kind"] == "eval":
                batch = run["created_at"].isoformat()
                if batch not in parents:
                    attach = report if run["created_at"] == newest_eval else None
                    parents[batch] = _parent(client, exp_id, run["created_at"], attach)
                parent = parents[batch]
            _mirror_one(client, exp_id, store, run, preds[preds["run_id"] == run["run_id"]], parent)
            out.mirrored.append(run["run_id"])
        except Exception as err:  # one run that fails to mirror does not stop the others
            log.warning("could not mirror run %s to MLflow: %s", run["run_id"], err)
            out.failed[run["run_id"]] = f"{type(err).__name__}: {err}"
    return out


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _parent(client, exp_id: str, created_at: datetime, report: str | Path | None) -> str:
    run = client.create_run(exp_id, start_time=_ms(created_at), run_name=f"eval {created_at:%Y-%m-%d %H:%M:%S}",
                            tags={BATCH_TAG: created_at.isoformat(), "miles.kind": "eval batch"})
    if report is not None and Path(report).is_file():
        client.log_artifact(run.info.run_id, str(report))
    client.set_terminated(run.info.run_id, "FINISHED", end_time=_ms(created_at))
    return run.info.run_id


def _flat(prefix: str, d: dict) -> dict[str, str]:
    return {f"{prefix}.{k}": str(v) for k, v in d.items()}


def run_record(run: dict) -> tuple[dict[str, str], dict[str, float], dict[str, str]]:
    """(params, metrics, tags) of one ``runs`` row: what MLflow shows of it."""
    config = json.loads(run["config"] or "{}")
    params = {k: str(run[k]) for k in ("kind", "head", "moment", "split", "features", "n_train", "n_test")}
    params.update(_flat("label_spec", config.get("label_spec", {})))
    if "thresholds" in config:
        params["threshold.global"] = str(config["thresholds"].get("global"))
    metrics = {}
    for name, m in json.loads(run["metrics"] or "{}").items():
        if isinstance(m, dict):
            metrics.update({name: m.get("value"), f"{name}_ci_low": m.get("ci_low"), f"{name}_ci_high": m.get("ci_high")})
        else:
            metrics[name] = m
    metrics = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
    tags = {RUN_TAG: run["run_id"], "miles.kind": run["kind"]}
    tags.update({f"miles.store_version.{t}": str(v) for t, v in config.get("store_versions", {}).items()})
    for table, fp in config.get("encoders", {}).items():
        tags[f"miles.encoder.{table}"] = f"{fp.get('name')} weights {str(fp.get('weights_sha256'))[:16]} dim {fp.get('dim')}"
    return params, metrics, tags


def _mirror_one(client, exp_id: str, store: Store, run: dict, preds, parent: str | None) -> None:
    from mlflow.entities import Metric, Param, RunTag

    params, metrics, tags = run_record(run)
    if parent is not None:
        tags["mlflow.parentRunId"] = parent
    name = " ".join(str(run[k]) for k in ("kind", "head", "moment", "split", "features") if run[k])
    started = _ms(run["created_at"])
    mrun = client.create_run(exp_id, start_time=started, run_name=name)
    rid = mrun.info.run_id
    head = _head_folder(store, run)
    if run["kind"] == "train" and head is None:
        tags["miles.head_artifact"] = "not attached: a later `miles train` replaced this head"
    client.log_batch(rid, metrics=[Metric(k, v, started, 0) for k, v in metrics.items()],
                     params=[Param(k, v) for k, v in params.items()], tags=[RunTag(k, v) for k, v in tags.items()])
    with tempfile.TemporaryDirectory() as tmp:
        if len(preds):
            path = Path(tmp) / "predictions.csv"
            preds.drop(columns=["run_id"]).to_csv(path, index=False)
            client.log_artifact(rid, str(path))
    if head is not None:
        client.log_artifacts(rid, str(head), artifact_path="head")
    client.set_terminated(rid, "FINISHED", end_time=started)


def _head_folder(store: Store, run: dict) -> Path | None:
    """The head folder of a train run while it still holds that run's head (its ``trained_at``)."""
    from miles.heads.deployed import head_dir, read_meta

    if run["kind"] != "train" or not run["artifact"]:
        return None
    folder = head_dir(store, run["head"], run["moment"])
    try:
        saved = (read_meta(store, run["head"], run["moment"]) or {}).get("trained_at")
    except (OSError, ValueError):
        return None
    return folder.resolve() if saved == json.loads(run["config"] or "{}").get("trained_at") else None
