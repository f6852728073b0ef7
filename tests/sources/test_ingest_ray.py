"""``miles ingest --engine ray``: files read and checked by Ray tasks, the same rows and rejects as locally."""

import pandas as pd

from miles.sources import ingest
from miles.sources.demo import generate
from miles.store import Store


def _inputs(folder):
    """Three CSV parts of a demo set (beside its thumbnails) and one of bad rows."""
    files = generate(folder / "src", n_videos=45, seed=3)
    frame = pd.read_csv(files.csv)
    parts = []
    for i in range(3):
        path = files.csv.parent / f"part{i}.csv"
        frame.iloc[i::3].to_csv(path, index=False)
        parts.append(path)
    bad = frame.iloc[:4].copy()
    bad.loc[bad.index[0], "views"] = -5  # a negative count
    bad.loc[bad.index[1], "title"] = "🔥🔥🔥"  # an emoji-only title is kept
    bad.loc[bad.index[2], "published_at"] = "1900-01-01T00:00:00Z"  # a date before any data
    bad = pd.concat([bad, bad.iloc[[3]]])  # a repeated row in one input
    path = files.csv.parent / "bad.csv"
    bad.to_csv(path, index=False)
    return parts + [path]


def _table(store, name, drop=()):
    t = store.read(name).to_pandas().drop(columns=list(drop))
    return t.sort_values(list(t.columns[:2])).reset_index(drop=True)


def test_ray_ingest_stores_the_same_rows_and_rejects_as_the_local_engine(tmp_path, ray_local):
    paths = _inputs(tmp_path)
    local, distributed = Store.open(tmp_path / "local"), Store.open(tmp_path / "ray")
    a = ingest(paths, local, progress=False, observed_at="2026-11-01T00:00:00Z")
    b = ingest(paths, distributed, progress=False, observed_at="2026-11-01T00:00:00Z", engine="ray")
    assert (a.read, a.stored, dict(a.rejected)) == (b.read, b.stored, dict(b.rejected))
    assert sum(a.rejected.values()) >= 2  # the bad rows were rejected, not lost
    pd.testing.assert_frame_equal(_table(local, "videos"), _table(distributed, "videos"))
    pd.testing.assert_frame_equal(_table(local, "snapshots"), _table(distributed, "snapshots"))
    pd.testing.assert_frame_equal(_table(local, "rejects", ["ingested_at"]),
                                  _table(distributed, "rejects", ["ingested_at"]))
