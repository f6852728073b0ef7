"""A live video's score: the command line and the API say the same."""

import json

import pandas as pd

from tests.queries.test_live import _late_video


def test_the_command_line_and_the_api_say_the_same(demo_store, client, capsys):
    from miles.cli import main

    vid, pub = _late_video(demo_store)
    at = (pub + pd.Timedelta(hours=7)).isoformat()
    assert main(["predict", "--store", str(demo_store.path), "--video-id", vid, "--at", at, "--json"]) == 0

    cli = json.loads(capsys.readouterr().out)
    api = client.get(f"/api/v1/videos/{vid}/prediction", params={"at": at}).json()
    assert cli["viral_probability"] == api["viral_probability"] and cli["moment"] == api["moment"] == "early_6h"
    assert main(["predict", "--store", str(demo_store.path), "--video-id", vid, "--at", at]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{vid}, 7 h old, scored at 6h") and "views at 1 h / 6 h / 24 h" in text
    later = (pub + pd.Timedelta(hours=30)).isoformat()  # 24 h reached, and no head is trained for it
    assert main(["predict", "--store", str(demo_store.path), "--video-id", vid, "--at", later]) == 0
    assert "--moments early_6h early_24h" in capsys.readouterr().out
    assert main(["predict", "--store", str(demo_store.path), "--video-id", vid, "--title", "x"]) == 2
    assert client.get("/api/v1/videos/nope/prediction").status_code == 404
