"""``miles train``: fit the deployable heads on every row with a final outcome and save them.

Artifacts go to ``<store>/heads/<head>/<moment>/<task>/`` (see ``persist``) and each is a row of ``runs``
(kind ``train``). ``predict`` (a later stage) loads them from there.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from miles.eval.explain import shap_patterns
from miles.heads.dataset import build_features
from miles.heads.labels import LabelSpec
from miles.heads.models import create_head
from miles.heads.persist import save_head
from miles.store import Store

log = logging.getLogger(__name__)


def head_dir(store: Store, head: str, moment: str, task: str) -> Path:
    return store.path / "heads" / head / moment / task


def train_heads(store: Store, heads=("baseline", "creator_prior", "lightgbm", "mlp"), moments=("pre_upload",),
                spec: LabelSpec | None = None, seed: int = 0) -> list[dict]:
    spec = spec or LabelSpec(age_hours=168.0)
    out = []
    now = datetime.now(timezone.utc)
    for moment in moments:
        fs = build_features(store, moment, spec)
        fitted = spec.fit(fs.frame)
        y = fitted.transform(fs.frame)["viral"].to_numpy()
        v = fs.frame["velocity"].to_numpy()
        blocks = [b for b in ("metadata", "text", "image") if b == "metadata" or getattr(fs, b) is not None]
        sizes = {"metadata": len(fs.scalar_names)}
        sizes.update({b: getattr(fs, b).shape[1] for b in blocks if b != "metadata"})
        for head in heads:
            if head == "baseline":
                X, features, params = fs.texts, "title", {}
            elif head == "creator_prior":
                X, features, params = fs.X(["metadata"]), "creator_prior", {
                    "prior_column": fs.scalar_names.index("creator_prior")}
            else:
                X, features, params = fs.X(blocks), "+".join(blocks), {"block_sizes": sizes, "random_state": seed}
            meta = {"label_spec": asdict(spec), "thresholds": {"global": fitted.global_threshold,
                                                               "platform": fitted.platform_thresholds},
                    "moment": moment, "features": features, "scalar_names": fs.scalar_names, "blocks": blocks,
                    "encoders": fs.encoders, "store_versions": fs.store_versions, "n_train": len(fs),
                    "trained_at": now.isoformat()}
            tasks = {}
            if head == "mlp":
                model = create_head("mlp", task="viral", **params).fit(X, y, y_aux=v)
                tasks = {"viral": model}
            else:
                tasks = {"viral": create_head(head, task="viral", **params).fit(X, y),
                         "velocity": create_head(head, task="velocity", **params).fit(X, v)}
            for task, model in tasks.items():
                task_meta = meta
                if task == "viral" and hasattr(model, "reducer_"):  # LightGBM: the model's global SHAP patterns
                    task_meta = {**meta, "shap_patterns": shap_patterns(model, X, fs.scalar_names, seed=seed)}
                folder = save_head(model, head_dir(store, head, moment, task), task_meta)
                run = {"run_id": uuid.uuid4().hex[:16], "created_at": now, "kind": "train", "head": head,
                       "moment": moment, "split": "all", "features": features, "n_train": len(fs), "n_test": 0,
                       "metrics": json.dumps({}), "config": json.dumps({"task": task, **meta}, default=str),
                       "artifact": str(folder)}
                store.upsert("runs", [run])
                out.append({"head": head, "moment": moment, "task": task, "features": features, "rows": len(fs),
                            "artifact": str(folder)})
                log.info("trained %s %s %s on %d rows → %s", head, moment, task, len(fs), folder)
    return out
