"""The ``miles`` subcommands: each reads its flags, calls one library function and prints the result."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timezone

from miles import present
from miles.cli.flags import label_spec

log = logging.getLogger("miles")
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def wrap(fn: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = fn
        return fn

    return wrap



def setup_logging(verbose: int, quiet: bool) -> None:
    import os

    os.environ.setdefault("LANCE_LOG", "error")  # lance logs "creating new dataset" warnings at WARN level
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # it logs each instruction set it tries


def _open(args: argparse.Namespace):
    from miles.store import Store

    return Store.open(args.store, must_exist=True)


def _image(path: str | None) -> bytes | None:
    """The bytes of an image named on the command line, verified (the library never opens client paths)."""
    if path is None:
        return None
    from pathlib import Path

    from miles.errors import MilesError
    from miles.sources.images import ImageError, read_capped, upload_size

    try:  # the file's checks here; what it holds is checked as every upload is (JPEG, PNG or WebP)
        data = read_capped(Path(path))
        upload_size(data)
        return data
    except ImageError as err:
        raise MilesError(f"--thumbnail {path}: {err}") from err


@command("ingest")
def _ingest(args: argparse.Namespace) -> int:
    from miles.sources import ingest
    from miles.store import Store

    summary = ingest(args.paths, Store.open(args.store), fmt=args.format, mapping=args.map,
                     observed_at=args.observed_at, thumbnails=args.thumbnails, platform=args.platform,
                     batch_size=args.batch_size, progress=not args.quiet,
                     allow_absolute_paths=args.allow_absolute_paths, records=args.records, engine=args.engine,
                     ray_address=args.address)
    print(summary.line())
    return 0


@command("store info")
def _store_info(args: argparse.Namespace) -> int:
    from miles.embed.languages import language_name, language_shares, store_language_note, title_languages
    from miles.heads.dataset import feature_text_tables
    from miles.heads.labels import coverage
    from miles.queries.cache import store_view
    from miles.store.embeddings import table_fingerprint

    store = _open(args)
    rows = store.info()
    view = store_view(store)
    covered = coverage(view.videos, view.snapshots, label_spec(args))
    languages = title_languages(view.videos)
    shares = language_shares(languages)
    notes = [f"{t}: {n}" for t in feature_text_tables(store)
             if (n := store_language_note(languages, table_fingerprint(store, t)["name"]))]
    if args.json:
        print(present.to_json({"store": store.uri, "tables": rows, "bracketed": covered, "languages": shares,
                               "language_notes": notes}))
    else:
        print(f"store {store}")
        print(present.format_table(rows, {"bytes": present.human_bytes}))
        ages = [k for k in covered if k != "videos"]
        print(f"videos whose snapshots bracket each age (of {covered['videos']:,}): "
              + " · ".join(f"{k} {covered[k]:,}" + (" (the label)" if i == 0 else "") for i, k in enumerate(ages)))
        print("languages of titles: " + " · ".join(f"{language_name(k)} " + (f"{v:.0%}" if v >= 0.005 else "<1%")
                                                    for k, v in shares.items()))
        for note in notes:
            print(f"note: {note}")
    return 0


@command("store check")
def _store_check(args: argparse.Namespace) -> int:
    from miles.store.check import check

    store = _open(args)
    rows = check(store, repair=args.repair)
    print(present.to_json(rows) if args.json else present.format_table(rows))
    bad = sum(r["duplicates"] for r in rows if not r["repaired"])
    if bad:
        print(f"{bad} duplicate rows: run `miles store check --store {store} --repair`", file=sys.stderr)
    return 1 if bad else 0


@command("sql")
def _sql(args: argparse.Namespace) -> int:
    from miles.queries.sql import run_sql

    result = run_sql(args.store, args.query, limit=args.limit or None, timeout=args.timeout,
                     memory_limit=args.memory_limit)
    present.print_arrow(result.table, args.format)
    if result.more:
        print(f"(only the first {args.limit} rows; more were not read: --limit N for more, --limit 0 for all)",
              file=sys.stderr)
    return 0


@command("embed")
def _embed(args: argparse.Namespace) -> int:
    from miles.embed.job import EmbedConfig, embed

    modalities = ("text", "image") if args.modality == "both" else (args.modality,)
    config = EmbedConfig(preset=args.preset, text_encoder=args.text_encoder, image_encoder=args.image_encoder,
                         modalities=modalities, device=args.device, batch_size=args.batch_size,
                         commit_every=args.commit_every, limit=args.limit, shard=args.shard, workers=args.workers,
                         decoder=args.decoder, include_description=args.with_description, progress=not args.quiet,
                         engine=args.engine, ray_address=args.address, actors=args.actors,
                         gpus_per_actor=args.gpus_per_actor, chunk=args.chunk, runtime=args.runtime)
    for report in embed(_open(args), config).values():
        print(report.line())
    return 0


@command("index")
def _index(args: argparse.Namespace) -> int:
    from miles.store.index import build_indexes

    rows = build_indexes(_open(args), args.table, force=args.force)
    cols = ("table", "kind", "n", "dim", "lance_version", "recall_at_10", "build_seconds", "up_to_date")
    print(present.format_table([{c: r.get(c) for c in cols} for r in rows]))
    return 0


@command("encoders")
def _encoders(args: argparse.Namespace) -> int:
    from miles.embed.registry import PRESETS, describe_encoders

    print(present.format_table([{"name": n, "what": d} for n, d in describe_encoders().items()]))
    print("\npresets: " + "; ".join(f"{p}: {v['text']} + {v['image']}" for p, v in PRESETS.items()))
    return 0


@command("eval")
def _eval(args: argparse.Namespace) -> int:
    from miles.eval.pipeline import run_eval
    from miles.eval.runner import EvalConfig

    since = datetime.now(timezone.utc)
    cfg = EvalConfig(heads=tuple(args.heads), moments=tuple(args.moments), splits=tuple(args.splits),
                     spec=label_spec(args), n_boot=args.bootstrap, seed=args.seed, ablations=not args.no_ablations,
                     purge=not args.no_purge, progress=not args.quiet)
    result = run_eval(_open(args), cfg, report=args.report, json_path=args.metrics)
    mirror_after(args, since, args.report)
    if args.json:
        print(present.to_json({"records": result.records, "gains": result.gains, "notes": result.notes}))
        return 0
    print("\n".join(present.eval_lines(result)))
    if args.report:
        print(f"report: {args.report}")
    return 0


@command("train")
def _train(args: argparse.Namespace) -> int:
    from miles.heads.train import train_heads

    since = datetime.now(timezone.utc)
    from miles.sources.parse import parse_time

    before = parse_time(args.before) if args.before else None
    rows = train_heads(_open(args), tuple(args.heads), tuple(args.moments), label_spec(args), seed=args.seed,
                       before=before, text_encoder=args.text_encoder)
    mirror_after(args, since)
    print(present.to_json(rows) if args.json else present.format_table(rows))
    return 0


@command("runs export")
def _runs_export(args: argparse.Namespace) -> int:
    from miles.eval.mirror import mirror_runs

    out = mirror_runs(_open(args), args.tracking_uri, args.experiment, report=args.report)
    print(out.line())
    return 1 if out.failed else 0


def mirror_after(args: argparse.Namespace, since, report: str | None = None) -> None:
    """After eval or train with ``--mlflow``: mirror the runs made since ``since``. A failure only warns:
    the runs are saved in the store, and ``miles runs export --mlflow`` sends them later."""
    if not args.mlflow:
        return
    from miles.eval.mirror import mirror_runs

    try:
        out = mirror_runs(_open(args), args.tracking_uri, args.experiment, since=since, report=report)
        (log.warning if out.failed else log.info)(out.line())
    except Exception as err:  # tracking is a mirror, never a reason to fail training
        log.warning("could not mirror the runs to MLflow (%s: %s); they are saved in the store, and "
                    "`miles runs export --mlflow` sends them later", type(err).__name__, present.clean(str(err)))


@command("similar")
def _similar(args: argparse.Namespace) -> int:
    from miles.queries.similar import similar

    rows = similar(_open(args), video_id=args.video_id, title=args.title, thumbnail=_image(args.thumbnail),
                   k=args.k, modality=args.modality, viral_only=args.viral_only, before=args.before,
                   platform=args.platform, spec=label_spec(args))
    if args.json:
        print(present.to_json(rows))
    else:
        print(present.format_table(rows) if rows else "(no earlier video with a known outcome matches)")
    return 0


def _draft(args: argparse.Namespace) -> dict:
    return dict(title=args.title, thumbnail=_image(args.thumbnail), duration=args.duration,
                publish_at=args.publish_at, followers=args.followers, creator_id=args.creator_id,
                hashtags=args.hashtags, head=args.head, k=args.k)


@command("predict")
def _predict(args: argparse.Namespace) -> int:
    from miles.errors import MilesError
    from miles.queries.live import score_video
    from miles.queries.predict import predict

    if (args.title is None) == (args.video_id is None):
        raise MilesError("give --title (a draft) or --video-id (a stored video), not both")
    if args.video_id is not None:
        store = _open(args)
        out = score_video(store, args.video_id, args.at, head=args.head, k=args.k)
        print(present.to_json(out) if args.json else "\n".join(present.live_lines(out)))
        if out["untrained_moments"] and not args.json:
            print(f"hint: miles train --store {store} --heads {args.head} --moments "
                  f"{out['moment']} {' '.join(out['untrained_moments'])}")
        return 0
    if args.at is not None:
        raise MilesError("--at goes with --video-id; a draft's time is --publish-at")
    out = predict(_open(args), **_draft(args))
    print(present.to_json(out) if args.json else "\n".join(present.prediction_lines(out)))
    return 0


@command("recommend")
def _recommend(args: argparse.Namespace) -> int:
    from pathlib import Path

    from miles.queries.recommend import recommend

    variants = [(Path(p).name, _image(p)) for p in args.thumbnail_variant]
    out = recommend(_open(args), **_draft(args), title_variants=args.title_variant, thumbnail_variants=variants,
                    use_llm=args.llm)
    if args.json:
        print(present.to_json(out))
        return 0
    print(present.clean(out["text"]))
    if out["variants"]:
        measured = ("faces", "brightness", "contrast")  # of thumbnail variants; blank for title variants
        print("\n" + present.format_table([{**{k: v for k, v in r.items() if k not in ("why", "thumbnail", "given")},
                                            **{m: r.get("thumbnail", {}).get(m, "") for m in measured}}
                                           for r in out["variants"]]))
    return 0


@command("serve")
def _serve(args: argparse.Namespace) -> int:
    from miles.serve.app import serve

    serve(args.store, host=args.host, port=args.port, head=args.head, cors_origins=args.cors_origin,
          concurrency=args.concurrency, processes=args.processes)
    return 0


@command("demo")
def _demo(args: argparse.Namespace) -> int:
    from miles.pipeline import run_demo

    result = run_demo(args.store or "demo-store", videos=args.videos, seed=args.seed, progress=not args.quiet,
                      hard=args.hard)
    print("\n".join(present.demo_lines(result)))
    return 0
