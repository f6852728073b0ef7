"""The ``miles`` argument parser: every subcommand, every flag with its help, one meaning per flag.

``--heads`` / ``--moments`` take several (eval, train); ``--head`` takes one (predict, recommend, serve); ``--json``
always prints JSON to stdout; the label flags come from one helper (``flags.py``) and default to ``LabelSpec()``'s.
"""

from __future__ import annotations

import argparse

from miles import __version__
from miles.cli.flags import (
    COUNT,
    HEADS,
    POSITIVE_INT,
    VECTOR_HEADS,
    _draft_args,
    _label_args,
    _number,
    _store_arg,
    _sub,
    mlflow_args,
)
from miles.cli.scrape import add_scrape, add_watch
from miles.embed import DECODERS
from miles.heads.registry import DEFAULT_HEAD


def _runs_args(subs) -> None:
    p = _sub(subs, "runs", "Work with the store's recorded runs.", "miles runs export --store demo-store --mlflow")
    runs_subs = p.add_subparsers(title="runs commands", metavar="ACTION")
    pe = runs_subs.add_parser("export", help="mirror runs to MLflow (those already there are skipped)",
                              description="Mirror the store's runs (params, metrics with intervals, tags, "
                                          "predictions, heads) to MLflow; runs already mirrored are skipped.",
                              epilog="example:\n  miles runs export --store demo-store --mlflow "
                                     "--tracking-uri sqlite:///mlflow.db",
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    pe.set_defaults(command="runs export")
    _store_arg(pe)
    mlflow_args(pe, required=True)
    pe.add_argument("--report", default=None, metavar="HTML", help="attach this report to the newest eval")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="miles",
        description="Miles: how likely a short video is to break out, why, and which similar videos did.",
        epilog="example:\n  miles demo --store demo-store",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"miles {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug); tracebacks for internal errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings only, no progress bars")
    subs = parser.add_subparsers(title="commands", metavar="COMMAND")

    _data_commands(subs)
    _model_commands(subs)
    _query_commands(subs)
    _store_commands(subs)
    add_scrape(subs)
    add_watch(subs)
    _runs_args(subs)
    return parser


def _data_commands(subs) -> None:
    """demo, ingest, embed, index, encoders: getting videos into the store and encoding them."""
    p = _sub(subs, "demo", "Generate the synthetic demo set and run every stage on it.",
             "miles demo --store demo-store --videos 2000")
    _store_arg(p)
    p.add_argument("--videos", type=POSITIVE_INT, default=2000, help="number of synthetic videos (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the generator (default 0)")
    p.add_argument("--hard", action="store_true",
                   help="a harder synthetic set: more noise and a weaker creator effect, the same content effects")

    p = _sub(subs, "ingest", "Read CSV / Parquet / JSONL / yt-dlp / SMP-Video sources into the store; bad rows go to `rejects`.",
             "miles ingest shorts.csv --store my-store --map video_id=videoId --observed-at 2026-01-01T00:00:00Z")
    p.add_argument("paths", nargs="+", help="input files or folders")
    _store_arg(p)
    p.add_argument("--format", default="auto", choices=["auto", "csv", "parquet", "json", "jsonl", "ytdlp", "smp"],
                   help="input format (default: from the file name or folder layout)")
    p.add_argument("--records", default=None, metavar="KEY",
                   help="the key under which a JSON document keeps its records (default: found when only one fits)")
    p.add_argument("--map", action="append", default=[], metavar="CANONICAL=SOURCE",
                   help="feed a canonical column from a source column (repeatable)")
    p.add_argument("--observed-at", default=None, metavar="ISO",
                   help="observation time for rows that carry none (ISO 8601, unix seconds)")
    p.add_argument("--thumbnails", default=None, metavar="DIR", help="folder of <video_id>.<ext> images")
    p.add_argument("--platform", default=None, help="platform name for rows that carry none")
    p.add_argument("--batch-size", type=POSITIVE_INT, default=2000, help="rows per write (default 2000)")
    p.add_argument("--engine", default="local", choices=["local", "ray"],
                   help="ray: read and check many files at once, one Ray task a file (`pip install 'miles[ray]'`)")
    p.add_argument("--address", default=None, help="Ray cluster address, e.g. auto (default: start Ray here)")
    p.add_argument("--allow-absolute-paths", action="store_true",
                   help="read thumbnail paths outside the input file's folder and --thumbnails (off by default)")

    p = _sub(subs, "embed", "Encode every video's title and thumbnail once into embedding tables (resumable).",
             "miles embed --store my-store --preset offline")
    _store_arg(p)
    p.add_argument("--preset", default="offline", choices=["offline", "paper", "multilingual"],
                   help="offline: packaged minilm + efficientnet_lite0; paper: bert-base-uncased + resnet50; "
                   "multilingual: multilingual (needs miles[multilingual]) + efficientnet_lite0")
    p.add_argument("--text-encoder", default=None, metavar="NAME", help="override the preset's text encoder "
                   "(a registry name or a local Hugging Face model folder)")
    p.add_argument("--image-encoder", default=None, metavar="NAME", help="override the preset's image encoder")
    p.add_argument("--modality", choices=["text", "image", "both"], default="both", help="what to encode (default both)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--batch-size", type=POSITIVE_INT, default=None, help="videos per forward pass (default: chosen "
                   "for the runtime: on a CPU 2 thumbnails a pass in ONNX Runtime, 4 in torch, titles by a budget of 512 "
                   "tokens; 64 on a GPU)")
    p.add_argument("--commit-every", type=POSITIVE_INT, default=4, help="groups of 64 videos per commit (default 4)")
    p.add_argument("--limit", type=POSITIVE_INT, default=None, help="encode at most N videos per modality")
    p.add_argument("--shard", default=None, metavar="I/N", help="encode only shard I of N (split work over N workers)")
    p.add_argument("--workers", type=POSITIVE_INT, default=None,
                   help="image decode threads (default 1 on CPU, 4 on CUDA)")
    p.add_argument("--decoder", default="auto", choices=DECODERS,
                   help="thumbnail decoding: pil (threads, JPEG draft mode), nvjpeg (on the GPU), torchvision "
                        "(the same tensor path on the CPU); auto: pil on CPU, the faster of the two on CUDA, "
                        "measured at the start (default)")
    p.add_argument("--runtime", default="auto", choices=["auto", "torch", "onnx"],
                   help="what runs the encoders: onnx (their verified graphs in ONNX Runtime, on the CPU), torch; "
                        "auto: onnx on a CPU, torch on a GPU (default)")
    p.add_argument("--with-description", action="store_true",
                   help="append the description to the text (a table of its own: emb_text_<encoder>_desc)")
    p.add_argument("--engine", default="local", choices=["local", "ray"],
                   help="local: this process (default); ray: a Ray Data actor pool (`pip install 'miles[ray]'`)")
    p.add_argument("--address", default=None, help="Ray cluster address, e.g. auto (default: start Ray here)")
    p.add_argument("--actors", type=POSITIVE_INT, default=1, help="Ray encoder actors (default 1)")
    p.add_argument("--gpus-per-actor", type=_number(float, 0, "a number of GPUs (0 or more)"), default=0.0,
                   help="GPUs each Ray actor reserves (default 0); an actor uses CUDA whenever torch sees it")
    p.add_argument("--chunk", type=POSITIVE_INT, default=50_000,
                   help="videos per Ray chunk: read, encoded, staged and merged together (default 50000)")

    p = _sub(subs, "index", "Build a FAISS index per embedding table (exact up to 1M vectors, IVF above).",
             "miles index --store my-store")
    _store_arg(p)
    p.add_argument("--table", action="append", default=None, metavar="NAME", help="only this table (repeatable)")
    p.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")

    p = _sub(subs, "encoders", "List the encoders Miles can build by name.", "miles encoders")


def _model_commands(subs) -> None:
    """eval, train: fitting the heads."""
    p = _sub(subs, "eval", "Fit each head on the training part of each split, score the test part, with intervals.",
             "miles eval --store demo-store --moments pre_upload early_6h --report report.html")
    _store_arg(p)
    p.add_argument("--heads", nargs="+", default=HEADS, choices=HEADS, help="heads to evaluate (default all)")
    p.add_argument("--moments", nargs="+", default=["pre_upload", "early_1h", "early_6h", "early_24h"],
                   help="prediction moments: pre_upload or early_<h>h (default pre_upload early_1h early_6h early_24h)")
    p.add_argument("--splits", nargs="+", default=["time", "creator", "time_creator", "random"],
                   choices=["time", "creator", "time_creator", "random"],
                   help="time: forward; creator: unseen creators; time_creator: both; random: for comparison")
    _label_args(p)
    p.add_argument("--no-ablations", action="store_true", help="only all feature blocks, no ablations")
    p.add_argument("--no-purge", action="store_true",
                   help="time splits: keep training rows whose outcome was observed after the cut (for sources "
                        "crawled once, whose outcome times are unknown)")
    p.add_argument("--bootstrap", type=POSITIVE_INT, default=1000,
                   help="creator bootstrap resamples for intervals (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of splits, heads and resamples (default 0)")
    p.add_argument("--report", default=None, metavar="HTML", help="write the HTML report here")
    p.add_argument("--metrics", default=None, metavar="FILE", help="write the metric records here as JSON")
    p.add_argument("--json", action="store_true", help="print the metric records as JSON instead of a table")
    mlflow_args(p)

    p = _sub(subs, "train", "Fit the deployable heads on every row with a final outcome and save them in the store.",
             "miles train --store demo-store --heads lightgbm --moments pre_upload")
    _store_arg(p)
    p.add_argument("--heads", nargs="+", default=HEADS, choices=HEADS, help="heads to train (default all)")
    p.add_argument("--moments", nargs="+", default=["pre_upload"], help="prediction moments (default pre_upload)")
    _label_args(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the heads (default 0)")
    p.add_argument("--before", default=None, metavar="ISO", help="only videos whose outcome was known before this "
                   "(to replay what a model trained then would have said)")
    p.add_argument("--text-encoder", default=None, metavar="NAME", help="read the title vectors of this encoder "
                   "(default: minilm's when the store has them; `miles eval` says which to deploy)")
    p.add_argument("--json", action="store_true", help="print JSON")
    mlflow_args(p)


def _query_commands(subs) -> None:
    """similar, predict, recommend, serve: asking about drafts and videos."""
    p = _sub(subs, "similar", "Find similar videos published earlier, with their outcomes, as evidence.",
             'miles similar --store demo-store --title "Wait for it... ramen hack" -k 5 --viral-only')
    _store_arg(p)
    q = p.add_mutually_exclusive_group(required=True)
    q.add_argument("--video-id", default=None, help="a video in the store")
    q.add_argument("--title", default=None, help="a draft title")
    p.add_argument("--thumbnail", default=None, metavar="PATH", help="a draft thumbnail image (with --title)")
    p.add_argument("-k", type=POSITIVE_INT, default=10, help="how many (default 10)")
    p.add_argument("--modality", choices=["text", "image", "both"], default="both", help="which vectors to compare")
    p.add_argument("--viral-only", action="store_true", help="only videos labelled viral")
    p.add_argument("--before", default=None, metavar="ISO", help="only videos published (and settled) before this")
    p.add_argument("--platform", default=None, help="only videos of this platform")
    _label_args(p)
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = _sub(subs, "predict", "Score a draft: viral probability and velocity with intervals, why, and evidence.",
             'miles predict --store demo-store --title "Wait for it... ramen hack" --thumbnail draft.jpg '
             '--creator-id creator_0042 --duration 25')
    _store_arg(p)
    _draft_args(p, live=True)
    p.add_argument("--head", default=DEFAULT_HEAD, choices=HEADS, help=f"the trained head to use (default {DEFAULT_HEAD})")

    p = _sub(subs, "recommend", "Say what to change in a draft and why, citing similar videos; rank given variants.",
             'miles recommend --store demo-store --title "ramen at home" --creator-id creator_0042 '
             '--title-variant "Wait for it... ramen hack" --thumbnail-variant b.jpg')
    _store_arg(p)
    _draft_args(p)
    p.add_argument("--title-variant", action="append", default=[], metavar="TEXT", help="another title (repeatable)")
    p.add_argument("--thumbnail-variant", action="append", default=[], metavar="PATH",
                   help="another thumbnail (repeatable)")
    p.add_argument("--head", default=DEFAULT_HEAD, choices=VECTOR_HEADS,
                   help=f"the trained head to use (default {DEFAULT_HEAD})")
    p.add_argument("--llm", action="store_true", help="let the LLM at $MILES_LLM_BASE_URL write the text "
                   "(OpenAI-compatible; $MILES_LLM_MODEL, $MILES_LLM_API_KEY); falls back to the deterministic text")

    p = _sub(subs, "serve", "Serve the HTTP API and the dashboard for a store (127.0.0.1 unless told otherwise).",
             "miles serve --store demo-store --port 8000")
    _store_arg(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; anything else warns, and honours $MILES_API_TOKEN)")
    p.add_argument("--port", type=_number(int, 1, "a port number"), default=8000, help="port (default 8000)")
    p.add_argument("--head", default=DEFAULT_HEAD, choices=VECTOR_HEADS,
                   help=f"the trained head to serve (default {DEFAULT_HEAD})")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="allow browser calls from this exact origin, e.g. https://example.com (repeatable; none by default)")
    p.add_argument("--concurrency", type=POSITIVE_INT, default=2,
                   help="predictions computed at once per process; the rest wait in line (default 2)")
    p.add_argument("--processes", type=POSITIVE_INT, default=1,
                   help="server processes, each with the models loaded (default 1; 2 on two cores serves more)")


def _store_commands(subs) -> None:
    """store, sql: looking inside the store."""
    p = _sub(subs, "store", "Inspect the store.", "miles store info --store my-store")
    store_subs = p.add_subparsers(title="store commands", metavar="ACTION")
    pi = store_subs.add_parser("info", help="tables, row counts, Lance versions, size on disk",
                               description="Tables, row counts, Lance versions and size on disk.",
                               epilog="example:\n  miles store info --store my-store",
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    pi.set_defaults(command="store info")
    _store_arg(pi)
    _label_args(pi)
    pi.add_argument("--json", action="store_true", help="print JSON")
    pc = store_subs.add_parser("check", help="find rows that share a key; --repair keeps one of each",
                               description="Find rows that share a key (left by an older Miles or by two "
                                           "writers before the writer lock); --repair keeps the last of each.",
                               epilog="example:\n  miles store check --store my-store --repair",
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    pc.set_defaults(command="store check")
    _store_arg(pc)
    pc.add_argument("--repair", action="store_true", help="rewrite tables with duplicates, keeping the last row")
    pc.add_argument("--json", action="store_true", help="print JSON")

    p = _sub(subs, "sql", "Run read-only DuckDB SQL over the store tables.",
             'miles sql "SELECT platform, count(*) AS n FROM videos GROUP BY 1" --store my-store')
    p.add_argument("query", help="one SELECT statement (WITH too), or EXPLAIN [ANALYZE] of one")
    _store_arg(p)
    p.add_argument("--format", default="table", choices=["table", "csv", "json"], help="output format")
    p.add_argument("--limit", type=COUNT, default=1000,
                   help="at most this many rows, cut inside DuckDB (default 1000; 0: all)")
    p.add_argument("--timeout", type=_number(float, 0, "a positive number of seconds", strict=True), default=60.0,
                   help="stop a query still running after this many seconds (default 60)")
    p.add_argument("--memory-limit", default=None, metavar="SIZE",
                   help="the query's memory limit, e.g. 2GB (default 1GB): DuckDB's limit, and the query's "
                        "process is stopped once it grows by 1.5x it, so none reaches twice it")
