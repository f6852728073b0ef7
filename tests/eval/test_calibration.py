"""Probabilities calibrated on the latest training weeks hold on the weeks after them.

The trap: a platform that grows (every week's videos get more views than the last). A viral threshold
fitted on training weeks and applied to later weeks calls most later videos viral, so the base rate the
head learned is wrong there (on a real YouTube export: 60% "viral" test weeks, ECE 0.34). With ``viral``
defined within each week (``miles.heads.labels``), every week's base rate is the same and the calibration
transfers. The demo's hard setting, the same trap on it, and the real sources in ../shared/data."""

import numpy as np
import pandas as pd
import pytest

import miles.heads.labels as labels
from miles.eval.runner import EvalConfig, evaluate
from miles.heads.labels import LabelSpec
from miles.sources import ingest
from miles.sources.demo import generate
from miles.store import Store
from tests.conftest import shared

CFG = dict(heads=("lightgbm",), moments=("pre_upload",), splits=("time",), n_boot=200, ablations=False,
           progress=False)


def growing_store(folder, hard: bool = True) -> Store:
    """The hard demo set on a platform whose views double every 20 days."""
    files = generate(folder / "src", n_videos=1000, seed=7, hard=hard)
    df = pd.read_csv(files.csv)
    days = (pd.to_datetime(df["published_at"]) - pd.to_datetime(df["published_at"]).min()).dt.days
    for c in ("views", "likes", "comments", "shares"):
        df[c] = (df[c] * 2 ** (days / 20)).round().astype("int64")
    df.to_csv(files.csv.parent / "growing.csv", index=False)
    store = Store.open(folder / "store")
    ingest([files.csv.parent / "growing.csv"], store, progress=False)
    return store


def metrics(store: Store, spec: LabelSpec | None = None, purge: bool = True) -> dict[str, float]:
    r = evaluate(store, EvalConfig(spec=spec or LabelSpec(), purge=purge, **CFG))
    return {x["metric"]: x["value"] for x in r.records if x["head"] in ("lightgbm", "")}


def thresholds_from_training_weeks(real):
    """The old mistake: one threshold per platform from the earliest 70% of videos, applied to every week."""
    def leaky(outcomes, spec):
        out = real(outcomes, spec)
        early = out["final"] & (out["published_at"] <= out["published_at"].quantile(0.7))
        th = out.loc[early, "velocity"].quantile(1 - spec.viral_fraction)
        out["viral"] = np.where(out["final"], (out["velocity"] >= th).astype(float), np.nan)
        return out
    return leaky


@pytest.fixture(scope="module")
def growing(tmp_path_factory):
    return growing_store(tmp_path_factory.mktemp("growing"))


def test_calibration_holds_on_later_weeks_of_a_growing_platform(growing):
    m = metrics(growing)
    assert 0.14 <= m["prevalence"] <= 0.27
    assert m["ece"] <= 0.08 and m["p_coverage"] >= 0.85


def test_thresholds_from_training_weeks_break_it(growing, monkeypatch):
    monkeypatch.setattr(labels, "label", thresholds_from_training_weeks(labels.label))
    m = metrics(growing)
    assert m["prevalence"] > 0.5 and m["ece"] > 0.2


@pytest.mark.shared_data
def test_smp_time_split_is_calibrated(tmp_path):
    store = Store.open(tmp_path / "smp")
    ingest([shared("smp-video-2025")], store, observed_at="2023-09-15T00:00:00Z", progress=False)
    m = metrics(store, LabelSpec(age_hours=None, per_hour=False), purge=False)
    assert 0.17 <= m["prevalence"] <= 0.23 and m["ece"] <= 0.05


@pytest.mark.shared_data
def test_bilibili_time_split_is_calibrated(tmp_path):
    folder = shared("bilibili-covers-dev")
    store = Store.open(tmp_path / "bili")
    ingest([folder / "videos.csv"], store, observed_at="2025-06-20T00:00:00Z", platform="bilibili",
           mapping=["creator_id=uploader_name"], progress=False)
    m = metrics(store, LabelSpec(age_hours=None, cohort="platform_day"), purge=False)
    assert 0.15 <= m["prevalence"] <= 0.25 and m["ece"] <= 0.05
