"""The ``miles`` command: a thin layer, each subcommand calls one library function.

    miles demo --store demo-store
    miles ingest videos.csv --store my-store --map views=playCount
    miles sql "SELECT count(*) FROM videos" --store my-store
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

from miles import __version__
from miles.embed import DECODERS

log = logging.getLogger("miles")
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def wrap(fn: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = fn
        return fn

    return wrap


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", default=None, help="store directory (default: $MILES_STORE or ./miles-store)")


def _sub(subs, name: str, help: str, example: str) -> argparse.ArgumentParser:
    p = subs.add_parser(name, help=help, description=help, epilog=f"example:\n  {example}",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(command=name)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="miles",
        description="Miles: how likely a short video is to break out, why, and which similar videos did.",
        epilog="example:\n  miles demo --store demo-store",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"miles {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings only, no progress bars")
    subs = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = _sub(subs, "demo", "Generate the synthetic demo set and run every stage on it.",
             "miles demo --store demo-store --videos 2000")
    _store_arg(p)
    p.add_argument("--videos", type=int, default=2000, help="number of synthetic videos (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the generator (default 0)")

    p = _sub(subs, "ingest", "Read CSV / Parquet / JSONL / yt-dlp / SMP-Video sources into the store; bad rows go to `rejects`.",
             "miles ingest shorts.csv --store my-store --map video_id=videoId --observed-at 2026-01-01T00:00:00Z")
    p.add_argument("paths", nargs="+", help="input files or folders")
    _store_arg(p)
    p.add_argument("--format", default="auto", choices=["auto", "csv", "parquet", "jsonl", "ytdlp", "smp"])
    p.add_argument("--map", action="append", default=[], metavar="CANONICAL=SOURCE",
                   help="feed a canonical column from a source column (repeatable)")
    p.add_argument("--observed-at", default=None, metavar="ISO",
                   help="observation time for rows that carry none (ISO 8601, unix seconds)")
    p.add_argument("--thumbnails", default=None, metavar="DIR", help="folder of <video_id>.<ext> images")
    p.add_argument("--platform", default=None, help="platform name for rows that carry none")
    p.add_argument("--batch-size", type=int, default=2000, help="rows per write (default 2000)")

    p = _sub(subs, "embed", "Encode every video's title and thumbnail once into embedding tables (resumable).",
             "miles embed --store my-store --preset offline --batch-size 64")
    _store_arg(p)
    p.add_argument("--preset", default="offline", choices=["offline", "paper"],
                   help="offline: packaged minilm + efficientnet_lite0; paper: bert-base-uncased + resnet50")
    p.add_argument("--text-encoder", default=None, metavar="NAME", help="override the preset's text encoder "
                   "(a registry name or a local Hugging Face model folder)")
    p.add_argument("--image-encoder", default=None, metavar="NAME", help="override the preset's image encoder")
    p.add_argument("--modality", choices=["text", "image", "both"], default="both", help="what to encode")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--batch-size", type=int, default=64, help="videos per forward pass (default 64)")
    p.add_argument("--commit-every", type=int, default=4, help="batches per commit (default 4)")
    p.add_argument("--limit", type=int, default=None, help="encode at most N videos per modality")
    p.add_argument("--shard", default=None, metavar="I/N", help="encode only shard I of N (split work over N workers)")
    p.add_argument("--workers", type=int, default=None, help="image decode threads (default 1 on CPU, 4 on CUDA)")
    p.add_argument("--decoder", default="auto", choices=DECODERS,
                   help="thumbnail decoding: pil (threads, JPEG draft mode), nvjpeg (on the GPU), torchvision "
                        "(the same tensor path on the CPU); auto: pil on CPU, the faster of the two on CUDA, "
                        "measured at the start (default)")
    p.add_argument("--with-description", action="store_true", help="append the description to the text")

    p = _sub(subs, "index", "Build a FAISS index per embedding table (exact up to 1M vectors, IVF above).",
             "miles index --store my-store")
    _store_arg(p)
    p.add_argument("--table", action="append", default=None, metavar="NAME", help="only this table (repeatable)")
    p.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")

    p = _sub(subs, "encoders", "List the encoders Miles can build by name.", "miles encoders")

    p = _sub(subs, "eval", "Fit each head on the training part of each split, score the test part, with intervals.",
             "miles eval --store demo-store --moments pre_upload early_6h --report report.html --json metrics.json")
    _store_arg(p)
    p.add_argument("--heads", nargs="+", default=["baseline", "creator_prior", "lightgbm", "mlp"])
    p.add_argument("--moments", nargs="+", default=["pre_upload", "early_1h", "early_6h", "early_24h"])
    p.add_argument("--splits", nargs="+", default=["time", "creator", "random"], choices=["time", "creator", "random"])
    p.add_argument("--label-age", type=float, default=168.0,
                   help="hours after publishing at which velocity is measured (default 168); 0: latest observation")
    p.add_argument("--target", choices=["velocity", "views"], default="velocity",
                   help="velocity: log10 views per hour (default); views: log10 views, for sources whose video "
                        "age at observation is unknown")
    p.add_argument("--viral-fraction", type=float, default=0.2, help="top fraction labelled viral (default 0.2)")
    p.add_argument("--cohort", default="platform_week", choices=["platform_week", "platform", "none"])
    p.add_argument("--no-ablations", action="store_true", help="only all feature blocks, no ablations")
    p.add_argument("--no-purge", action="store_true",
                   help="time split: keep training rows whose outcome was observed after the cut (for sources "
                        "crawled once, whose outcome times are unknown)")
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for intervals (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report", default=None, metavar="HTML", help="write the HTML report here")
    p.add_argument("--json", default=None, metavar="FILE", help="write the metric records here")

    p = _sub(subs, "train", "Fit the deployable heads on every row with a final outcome and save them in the store.",
             "miles train --store demo-store --head lightgbm --moment pre_upload")
    _store_arg(p)
    p.add_argument("--head", nargs="+", default=["baseline", "creator_prior", "lightgbm", "mlp"])
    p.add_argument("--moment", nargs="+", default=["pre_upload"])
    p.add_argument("--label-age", type=float, default=168.0, help="as for eval")
    p.add_argument("--split", default="all", choices=["all"], help="deployable heads train on all rows")

    p = _sub(subs, "similar", "Find similar videos published earlier, with their outcomes, as evidence.",
             'miles similar --store demo-store --title "Wait for it... ramen hack" -k 5 --viral-only')
    _store_arg(p)
    q = p.add_mutually_exclusive_group(required=True)
    q.add_argument("--video-id", default=None, help="a video in the store")
    q.add_argument("--title", default=None, help="a draft title")
    p.add_argument("--thumbnail", default=None, metavar="PATH", help="a draft thumbnail image (with --title)")
    p.add_argument("-k", type=int, default=10, help="how many (default 10)")
    p.add_argument("--modality", choices=["text", "image", "both"], default="both")
    p.add_argument("--viral-only", action="store_true", help="only videos labelled viral")
    p.add_argument("--before", default=None, metavar="ISO", help="only videos published (and settled) before this")
    p.add_argument("--platform", default=None)
    p.add_argument("--label-age", type=float, default=168.0,
                   help="hours at which outcomes are measured (default 168); 0: the latest observation")
    p.add_argument("--target", choices=["velocity", "views"], default="velocity", help="as for eval")
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = _sub(subs, "predict", "Score a draft: viral probability, velocity with an interval, why, and evidence.",
             'miles predict --store demo-store --title "Wait for it... ramen hack" --thumbnail draft.jpg '
             '--creator-id creator_0042 --duration 25')
    _store_arg(p)
    p.add_argument("--title", required=True)
    p.add_argument("--hashtags", default=None, help='e.g. "#food #easyrecipe" (default: the #tags in the title)')
    p.add_argument("--thumbnail", default=None, metavar="PATH")
    p.add_argument("--duration", type=float, default=None, metavar="S")
    p.add_argument("--publish-at", default=None, metavar="ISO", help="planned publish time (default now)")
    p.add_argument("--followers", type=int, default=None, metavar="N")
    p.add_argument("--creator-id", default=None, help="a creator in the store: followers and history come from it")
    p.add_argument("--head", default="lightgbm", choices=["lightgbm", "mlp", "baseline", "creator_prior"])
    p.add_argument("-k", type=int, default=5, help="similar viral videos to show (default 5)")
    p.add_argument("--json", action="store_true")

    p = _sub(subs, "recommend", "Say what to change in a draft and why, citing similar videos; rank given variants.",
             'miles recommend --store demo-store --title "ramen at home" --creator-id creator_0042 '
             '--title-variant "Wait for it... ramen hack" --thumbnail-variant b.jpg')
    _store_arg(p)
    p.add_argument("--title", required=True)
    p.add_argument("--hashtags", default=None)
    p.add_argument("--thumbnail", default=None, metavar="PATH")
    p.add_argument("--duration", type=float, default=None, metavar="S")
    p.add_argument("--publish-at", default=None, metavar="ISO")
    p.add_argument("--followers", type=int, default=None, metavar="N")
    p.add_argument("--creator-id", default=None)
    p.add_argument("--title-variant", action="append", default=[], metavar="TEXT", help="another title (repeatable)")
    p.add_argument("--thumbnail-variant", action="append", default=[], metavar="PATH",
                   help="another thumbnail (repeatable)")
    p.add_argument("--head", default="lightgbm", choices=["lightgbm", "mlp"])
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--llm", action="store_true", help="let the LLM at $MILES_LLM_BASE_URL write the text "
                   "(OpenAI-compatible; $MILES_LLM_MODEL, $MILES_LLM_API_KEY); falls back to the deterministic text")
    p.add_argument("--json", action="store_true")

    p = _sub(subs, "store", "Inspect the store.", "miles store info --store my-store")
    store_subs = p.add_subparsers(title="store commands", metavar="ACTION")
    pi = store_subs.add_parser("info", help="tables, row counts, Lance versions, size on disk",
                               description="Tables, row counts, Lance versions and size on disk.",
                               epilog="example:\n  miles store info --store my-store",
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    pi.set_defaults(command="store info")
    _store_arg(pi)
    pi.add_argument("--json", action="store_true", help="print JSON")

    p = _sub(subs, "sql", "Run read-only DuckDB SQL over the store tables.",
             'miles sql "SELECT platform, count(*) AS n FROM videos GROUP BY 1" --store my-store')
    p.add_argument("query", help="one SELECT statement")
    _store_arg(p)
    p.add_argument("--format", default="table", choices=["table", "csv", "json"], help="output format")
    p.add_argument("--limit", type=int, default=None, help="print at most this many rows (table format)")
    return parser


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # it logs each instruction set it tries


@command("ingest")
def _ingest(args: argparse.Namespace) -> int:
    from miles.sources import ingest
    from miles.store import Store

    store = Store.open(args.store)
    summary = ingest(args.paths, store, fmt=args.format, mapping=args.map, observed_at=args.observed_at,
                     thumbnails=args.thumbnails, platform=args.platform, batch_size=args.batch_size,
                     progress=not args.quiet)
    print(summary.line())
    return 0


@command("store info")
def _store_info(args: argparse.Namespace) -> int:
    from miles.store import Store

    store = Store.open(args.store, must_exist=True)
    rows = store.info()
    if args.json:
        print(json.dumps({"store": str(store.path), "tables": rows}, indent=2))
    else:
        print(f"store {store.path}")
        print(format_table(rows, {"bytes": human_bytes}))
    return 0


@command("sql")
def _sql(args: argparse.Namespace) -> int:
    from miles.queries import sql

    table = sql(args.store, args.query)
    print_arrow(table, args.format, args.limit)
    return 0


@command("embed")
def _embed(args: argparse.Namespace) -> int:
    from miles.embed.job import EmbedConfig, embed
    from miles.store import Store

    modalities = ("text", "image") if args.modality == "both" else (args.modality,)
    config = EmbedConfig(preset=args.preset, text_encoder=args.text_encoder, image_encoder=args.image_encoder,
                         modalities=modalities, device=args.device, batch_size=args.batch_size,
                         commit_every=args.commit_every, limit=args.limit, shard=args.shard, workers=args.workers,
                         decoder=args.decoder, include_description=args.with_description, progress=not args.quiet)
    for report in embed(Store.open(args.store, must_exist=True), config).values():
        print(report.line())
    return 0


@command("index")
def _index(args: argparse.Namespace) -> int:
    from miles.store import Store
    from miles.store.index import build_indexes

    rows = build_indexes(Store.open(args.store, must_exist=True), args.table, force=args.force)
    cols = ("table", "kind", "n", "dim", "lance_version", "recall_at_10", "build_seconds", "up_to_date")
    print(format_table([{c: r.get(c) for c in cols} for r in rows]))
    return 0


@command("encoders")
def _encoders(args: argparse.Namespace) -> int:
    from miles.embed.base import PRESETS, describe_encoders

    print(format_table([{"name": n, "what": d} for n, d in describe_encoders().items()]))
    print("\npresets: " + "; ".join(f"{p}: {v['text']} + {v['image']}" for p, v in PRESETS.items()))
    return 0


def _spec(args):
    from miles.heads.labels import LabelSpec

    return LabelSpec(age_hours=args.label_age or None, viral_fraction=getattr(args, "viral_fraction", 0.2),
                     cohort=getattr(args, "cohort", "platform_week"),
                     per_hour=getattr(args, "target", "velocity") == "velocity")


@command("eval")
def _eval(args: argparse.Namespace) -> int:
    from miles.eval.pipeline import run_eval
    from miles.eval.runner import EvalConfig
    from miles.store import Store

    cfg = EvalConfig(heads=tuple(args.heads), moments=tuple(args.moments), splits=tuple(args.splits), spec=_spec(args),
                     n_boot=args.bootstrap, seed=args.seed, ablations=not args.no_ablations, purge=not args.no_purge,
                     progress=not args.quiet)
    result = run_eval(Store.open(args.store, must_exist=True), cfg, report=args.report, json_path=args.json)
    print(format_table(result.table().to_dict("records")))
    widest = {(g["head"], g["moment"], g["split"]): g["features"] for g in sorted(result.gains, key=lambda g: g["features"].count("+"))}
    for g in result.gains:
        if g["features"] == widest[(g["head"], g["moment"], g["split"])]:
            print(f"gain of {g['features']} over metadata, {g['head']} {g['moment']} {g['split']} {g['metric']}: "
                  f"{g['gain']:+.3f} [{g['ci_low']:+.3f}, {g['ci_high']:+.3f}] (positive = better)")
    if args.report:
        print(f"report: {args.report}")
    return 0


@command("train")
def _train(args: argparse.Namespace) -> int:
    from miles.heads.train import train_heads
    from miles.store import Store

    rows = train_heads(Store.open(args.store, must_exist=True), tuple(args.head), tuple(args.moment), _spec(args))
    print(format_table(rows))
    return 0


@command("similar")
def _similar(args: argparse.Namespace) -> int:
    from miles.queries.similar import similar
    from miles.store import Store

    rows = similar(Store.open(args.store, must_exist=True), video_id=args.video_id, title=args.title,
                   thumbnail=args.thumbnail, k=args.k, modality=args.modality, viral_only=args.viral_only,
                   before=args.before, platform=args.platform, spec=_spec(args))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        print(format_table(rows) if rows else "(no earlier video with a known outcome matches)")
    return 0


@command("predict")
def _predict(args: argparse.Namespace) -> int:
    from miles.queries.predict import predict, to_json
    from miles.store import Store

    out = predict(Store.open(args.store, must_exist=True), title=args.title, thumbnail=args.thumbnail,
                  duration=args.duration, publish_at=args.publish_at, followers=args.followers,
                  creator_id=args.creator_id, hashtags=args.hashtags, head=args.head, k=args.k)
    if args.json:
        print(to_json(out))
        return 0
    band = out["velocity_interval"]
    print(f"P(viral) {out['viral_probability']:.2f}{' (calibrated)' if out['calibrated'] else ''} · velocity "
          f"{out['velocity']:.2f} log10 views/h" + (f" [{band[0]:.2f}, {band[1]:.2f}]" if band else ""))
    for f in out["factors"]:
        print(f"  - {f['says']}")
    if out["similar"]:
        print("similar videos that broke out:")
        print(format_table(out["similar"]))
    return 0


@command("recommend")
def _recommend(args: argparse.Namespace) -> int:
    from miles.queries.predict import to_json
    from miles.queries.recommend import recommend
    from miles.store import Store

    out = recommend(Store.open(args.store, must_exist=True), title=args.title, thumbnail=args.thumbnail,
                    duration=args.duration, publish_at=args.publish_at, followers=args.followers,
                    creator_id=args.creator_id, hashtags=args.hashtags, title_variants=args.title_variant,
                    thumbnail_variants=args.thumbnail_variant, head=args.head, k=args.k, use_llm=args.llm)
    if args.json:
        print(to_json(out))
        return 0
    print(out["text"])
    if out["variants"]:
        measured = ("faces", "brightness", "contrast")  # of thumbnail variants; blank for title variants
        print("\n" + format_table([{**{k: v for k, v in r.items() if k not in ("why", "thumbnail")},
                                    **{m: r.get("thumbnail", {}).get(m, "") for m in measured}}
                                   for r in out["variants"]]))
    return 0


@command("demo")
def _demo(args: argparse.Namespace) -> int:
    from miles.pipeline import run_demo

    run_demo(args.store or "demo-store", videos=args.videos, seed=args.seed, progress=not args.quiet)
    return 0


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


def format_table(rows: list[dict], formatters: dict[str, Callable] | None = None) -> str:
    if not rows:
        return "(no rows)"
    formatters = formatters or {}
    cols = list(rows[0])
    cells = [[str(formatters.get(c, _cell)(r.get(c))) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=False)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) for row in cells]
    return "\n".join(lines)


def _cell(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (bytes, bytearray)):
        return f"<{len(v)} bytes>"
    text = str(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _jsonable(v):
    if isinstance(v, (bytes, bytearray)):
        return f"<{len(v)} bytes>"
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def print_arrow(table, fmt: str = "table", limit: int | None = None, out=None) -> None:
    out = out or sys.stdout
    if fmt == "csv":
        import pyarrow.csv as pacsv

        safe = table.select([c for c in table.column_names if not _is_nested(table.schema.field(c).type)])
        buf = __import__("io").BytesIO()
        pacsv.write_csv(safe, buf)
        out.write(buf.getvalue().decode())
        return
    rows = table.to_pylist()
    if fmt == "json":
        out.write(json.dumps([{k: _jsonable(v) for k, v in r.items()} for r in rows], ensure_ascii=False,
                             default=str) + "\n")
        return
    shown = rows if limit is None else rows[:limit]
    out.write(format_table(shown) + "\n")
    out.write(f"({table.num_rows} row{'s' if table.num_rows != 1 else ''})\n")


def _is_nested(t) -> bool:
    import pyarrow as pa

    return pa.types.is_list(t) or pa.types.is_fixed_size_list(t) or pa.types.is_struct(t) or pa.types.is_large_list(t)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    _setup_logging(args.verbose, args.quiet)
    try:
        return COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError, KeyError) as err:  # WeightsNotFound is a FileNotFoundError
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"miles {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
