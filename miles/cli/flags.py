"""Flag helpers shared by the parsers: the store flag, a subcommand with its example, checked numbers."""

from __future__ import annotations

import argparse
import math

from miles.heads.registry import head_kind, list_heads


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", default=None, help="store folder or s3://bucket/prefix (default: $MILES_STORE or ./miles-store)")


def _sub(subs, name: str, help: str, example: str) -> argparse.ArgumentParser:
    p = subs.add_parser(name, help=help, description=help, epilog=f"example:\n  {example}",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(command=name)
    return p


def _number(kind, low: float | None = None, what: str = "a number", strict: bool = False):
    """An argparse type: ``kind`` (int or float) at least ``low`` (above it when ``strict``)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        if low is not None and (value <= low if strict else value < low):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


POSITIVE_INT = _number(int, 1, "a whole number of at least 1")
COUNT = _number(int, 0, "a whole number of 0 or more")
SECONDS = _number(float, 0, "a positive number of seconds", strict=True)
HEADS = list_heads()
VECTOR_HEADS = [h for h in HEADS if head_kind(h).reads == "blocks"]  # the heads that read a draft's vectors


def _label_args(p: argparse.ArgumentParser) -> None:
    """The label flags, one meaning everywhere (eval, train, similar, predict's head records its own)."""
    from miles.heads.labels import COHORTS, LabelSpec

    d = LabelSpec()
    p.add_argument("--label-age", type=_number(float, 0, "hours (0 or more)"), default=d.age_hours,
                   help=f"hours after publishing at which the outcome is measured (default {d.age_hours:g}); "
                        "0: each video's latest observation")
    p.add_argument("--target", choices=["velocity", "views"], default="velocity" if d.per_hour else "views",
                   help="velocity: log10 views per hour (default); views: log10 views, for sources whose video "
                        "age at observation is unknown")
    p.add_argument("--viral-fraction", type=_number(float, 0, "a fraction in (0, 1)", strict=True),
                   default=d.viral_fraction, help=f"top fraction labelled viral (default {d.viral_fraction:g})")
    p.add_argument("--cohort", default=d.cohort, choices=list(COHORTS),
                   help=f"the group a video is ranked in for the viral label (default {d.cohort}; platform_day for a source "
                        "crawled once over a few days)")


def label_spec(args: argparse.Namespace):
    """The LabelSpec that the label flags describe (one helper for every command)."""
    from miles.heads.labels import LabelSpec

    return LabelSpec(age_hours=args.label_age or None, viral_fraction=args.viral_fraction, cohort=args.cohort,
                     per_hour=args.target == "velocity")


def _draft_args(p: argparse.ArgumentParser, live: bool = False) -> None:
    """A draft's fields; with ``live``, a stored video to score instead (``--video-id``, ``--at``)."""
    p.add_argument("--title", required=not live, help="the draft's title")
    if live:
        p.add_argument("--video-id", default=None, help="score a stored video that is live now, at the latest moment "
                       "its age allows, instead of a draft")
        p.add_argument("--at", default=None, metavar="ISO", help="with --video-id: the time to score it at (default now)")
    p.add_argument("--hashtags", default=None, help='e.g. "#food #easyrecipe" (default: the #tags in the title)')
    p.add_argument("--thumbnail", default=None, metavar="PATH", help="the draft's thumbnail image (JPEG, PNG, WebP)")
    p.add_argument("--duration", type=SECONDS, default=None, metavar="S", help="video length in seconds (at most 86400)")
    p.add_argument("--publish-at", default=None, metavar="ISO", help="planned publish time (default now)")
    p.add_argument("--followers", type=COUNT, default=None, metavar="N",
                   help="the creator's followers now (default: the store's last observation of the creator)")
    p.add_argument("--creator-id", default=None, help="a creator in the store: followers and history come from it")
    p.add_argument("-k", type=COUNT, default=5, help="similar viral videos to show (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")


def mlflow_args(p: argparse.ArgumentParser, required: bool = False) -> None:
    """Mirroring to MLflow (``miles.eval.mirror``): on eval and train, and ``miles runs export``."""
    p.add_argument("--mlflow", action="store_true", required=required,
                   help="mirror the runs to MLflow (needs `pip install 'miles[mlflow]'`)")
    p.add_argument("--tracking-uri", default=None, metavar="URI",
                   help="MLflow tracking URI, e.g. sqlite:///mlflow.db (default: $MLFLOW_TRACKING_URI, MLflow's)")
    p.add_argument("--experiment", default="miles", help="MLflow experiment name (default miles)")
