"""``miles watch`` over a simulated fortnight on a fake clock: every live video scored once per moment, the
scores table append-only and idempotent, each video alerted at most once and only when it first crosses the
threshold, the alert command fed JSON without a shell, and no score changed by snapshots after its moment."""

import json
import shutil
import sys

import pandas as pd
import pyarrow as pa

from miles.heads.features import moment_hours
from miles.queries.watch import send_alert, watch_pass
from miles.store import Store

RECORDER = "import json, sys; open(sys.argv[1], 'a').write(json.dumps(json.load(sys.stdin)) + '\\n')"


def _fortnight(store, alert_above=0.4, command=None):
    end = pd.Timestamp(store.read("videos", columns=["published_at"]).to_pandas()["published_at"].max())
    summaries = []
    for t in pd.date_range(end - pd.Timedelta(days=14), end, freq="12h"):
        summaries.append(watch_pass(store, t.to_pydatetime(), alert_above=alert_above, alert_command=command))
    return summaries


def test_a_fortnight_of_passes(demo_store, tmp_path):
    store = Store.open(shutil.copytree(demo_store.path, tmp_path / "store"))
    log = tmp_path / "alerts.jsonl"
    summaries = _fortnight(store, command=f"{sys.executable} -c \"{RECORDER}\" {log}")
    scores = store.read("scores").to_pandas()
    assert len(scores) == sum(s.scored for s in summaries) > 20
    assert not scores.duplicated(["video_id", "moment", "head", "head_version"]).any()
    for _, r in scores.iterrows():  # the moment is the latest the age has reached (heads: pre-upload and 6 h)
        assert r["moment"] == ("early_6h" if r["age_hours"] >= 6 else "pre_upload"), r.to_dict()
        assert moment_hours(r["moment"]) <= r["age_hours"] < 168
        assert r["p_low"] <= r["p_viral"] <= r["p_high"] and r["views_low"] <= r["views_expected"] <= r["views_high"]
    alerts = scores[scores["alert"]]
    assert len(alerts) == sum(len(s.alerts) for s in summaries) and alerts["video_id"].is_unique
    for _, a in alerts.iterrows():
        earlier = scores[(scores["video_id"] == a["video_id"]) & (scores["scored_at"] < a["scored_at"])]
        assert a["p_viral"] >= 0.4 and (earlier["p_viral"] < 0.4).all()
    sent = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    assert sorted(s["video_id"] for s in sent) == sorted(alerts["video_id"]) and all(s["headline"] for s in sent)
    again = watch_pass(store, scores["scored_at"].max().to_pydatetime(), alert_above=0.4)
    assert again.scored == 0 and not again.alerts and store.count("scores") == len(scores)  # idempotent


def test_scores_do_not_see_snapshots_after_their_moment(demo_store, tmp_path):
    """The same fortnight on a copy whose snapshots after a cut (an hour after one video's 6-hour moment) are a
    hundred times larger, and where every video jumps a thousandfold half an hour after its 6-hour moment:
    every score whose moment fell before the cut is the same; later ones may differ (and some do)."""
    a = Store.open(shutil.copytree(demo_store.path, tmp_path / "a"))
    b = Store.open(shutil.copytree(demo_store.path, tmp_path / "b"))
    published = b.read("videos", columns=["published_at"]).to_pandas()["published_at"].sort_values()
    start = published.max() - pd.Timedelta(days=10)
    cut = published[published > start].iloc[0] + pd.Timedelta(hours=7)  # just after one video's 6-hour moment
    snaps = b.read("snapshots").to_pandas()
    snaps.loc[pd.to_datetime(snaps["observed_at"], utc=True) > cut, "views"] *= 100
    pub = b.read("videos", columns=["video_id", "published_at"]).to_pandas().set_index("video_id")["published_at"]
    jump = snaps.sort_values("observed_at").groupby("video_id").head(1).copy()  # and half an hour after each
    jump["observed_at"] = pd.to_datetime(jump["video_id"].map(pub), utc=True) + pd.Timedelta(hours=6.5)
    jump["views"] = jump["views"] * 1000  # video's own 6-hour moment, a thousandfold jump
    b.upsert("snapshots", pa.Table.from_pandas(pd.concat([snaps, jump]), preserve_index=False))
    _fortnight(a, alert_above=None)
    _fortnight(b, alert_above=None)
    key, cols = ["video_id", "moment"], ["p_viral", "p_low", "p_high"]
    both = a.read("scores").to_pandas().merge(b.read("scores").to_pandas(), on=key, suffixes=("", "_b"))
    moment_at = pd.to_datetime(both["video_id"].map(pub), utc=True) + \
        pd.to_timedelta(both["moment"].map(moment_hours), unit="h")
    before, after = both[moment_at <= cut], both[moment_at > cut]
    assert len(before) > 10 and len(after) >= 5
    for c in cols:
        assert (before[c] == before[f"{c}_b"]).all(), before[before[c] != before[f"{c}_b"]][key + [c, f"{c}_b"]]
    assert (after["p_viral"] != after["p_viral_b"]).any()  # the change is real, and seen where it may be


def test_an_alert_command_is_never_run_by_a_shell_and_has_a_deadline(tmp_path):
    marker = tmp_path / "pwned"
    log = tmp_path / "got.jsonl"
    problem = send_alert(f"{sys.executable} -c \"{RECORDER}\" {log} ';' 'touch {marker}' '$(touch {marker})'",
                         {"video_id": "v1"}, timeout=20)
    assert problem is None and json.loads(log.read_text()) == {"video_id": "v1"} and not marker.exists()
    slow = send_alert(f"{sys.executable} -c 'import time; time.sleep(30)'", {}, timeout=0.5)
    assert slow == "the alert command ran past 0.5 s and was stopped"
    assert send_alert("/no/such/alerter", {}, timeout=5).startswith("the alert command could not start")
    assert send_alert(f"{sys.executable} -c 'import sys; sys.exit(3)'", {}, timeout=20).startswith(
        "the alert command exited with 3")
    assert send_alert("unbalanced 'quote", {}, timeout=5).startswith("the alert command cannot be read")


def test_a_head_trained_before_a_time_sees_only_what_was_known_then(demo_store):
    """``miles train --before``: the rows (and their vectors, row for row) whose outcome was known before."""
    from miles.heads.dataset import build_features

    fs = build_features(demo_store, "pre_upload")
    when = pd.to_datetime(fs.frame["outcome_known_at"], utc=True).quantile(0.6)
    early = fs.known_before(when)
    assert 0 < len(early) < len(fs) and (pd.to_datetime(early.frame["outcome_known_at"], utc=True) < when).all()
    rows = fs.frame.reset_index(drop=True).index[fs.frame["video_id"].isin(early.frame["video_id"])]
    for block in ("text", "image"):
        if getattr(fs, block) is not None:
            assert (getattr(early, block) == getattr(fs, block)[rows]).all()


def test_the_watch_command(demo_store, tmp_path, capsys):
    from miles.cli import main

    store = Store.open(shutil.copytree(demo_store.path, tmp_path / "store"))
    end = pd.Timestamp(store.read("videos", columns=["published_at"]).to_pandas()["published_at"].max())
    at = (end - pd.Timedelta(days=2)).isoformat()
    assert main(["watch", "--store", str(store.path), "--no-track", "--at", at, "--alert-above", "0.3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{store.count('scores')} live videos younger than the label age")
    assert [line for line in out if line.startswith("ALERT ")] == [
        line for line in out[1:] if "a typical video here breaks out" in line]
    assert main(["watch", "--store", str(store.path), "--no-track", "--at", at]) == 0  # again: nothing new
    assert " 0 scored at a new moment" in capsys.readouterr().out
    assert main(["watch", "--store", str(store.path), "--at", at]) == 2  # a replay cannot track
    assert main(["watch", "--store", str(store.path), "--no-track", "--alert-above", "1.5"]) == 2
