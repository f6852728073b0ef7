"""The whole loop offline: simulate a platform, collect it through yt-dlp, then embed, eval, train, predict."""

import json

import pytest

from miles.cli import main


@pytest.mark.slow
def test_simulated_collection_feeds_eval_and_predict(tmp_path, capsys):
    store = str(tmp_path / "sim")
    assert main(["-q", "scrape", "simulate", "--store", store, "--videos", "60", "--days", "24", "--step", "4h",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    label = report["errors"]["velocity at 168 h"]
    assert label["labelled"] >= 0.9 * label["n"] > 0 and label["median_abs_error"] < 0.05
    # one fetch per rung reached (at most 11 in 24 days), plus the first at discovery
    assert 8 <= report["fetches"] / report["videos"] <= 12
    assert main(["-q", "embed", "--store", store]) == 0
    assert main(["-q", "eval", "--store", store, "--heads", "baseline", "lightgbm", "--moments", "pre_upload",
                 "--splits", "time", "--no-ablations"]) == 0
    assert main(["-q", "train", "--store", store, "--heads", "lightgbm", "--moments", "pre_upload"]) == 0
    capsys.readouterr()
    assert main(["predict", "--store", store, "--title", "Wait for it... ramen hack", "--creator-id", "creator_0001",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert 0 < out["viral_probability"] < 1 and out["head"] == "lightgbm"


def test_scrape_flags_say_what_is_wrong(tmp_path, capsys):
    assert main(["scrape", "simulate", "--store", str(tmp_path / "s"), "--ages", "6h", "1h"]) == 2
    assert "must increase" in capsys.readouterr().err
    assert main(["scrape", "track", "--store", str(tmp_path / "s"), "--every", "soon"]) == 2
    assert "positive span" in capsys.readouterr().err
