"""The ``miles scrape`` subcommands and ``miles watch`` (their flags are in ``miles.cli.scrape``)."""

from __future__ import annotations

import argparse
import sys

from miles.cli.commands import _open, command


@command("scrape discover")
def _scrape_discover(args: argparse.Namespace) -> int:
    from miles.collect.discover import discover
    from miles.collect.ytdlp import Client
    from miles.store import Store

    found = discover(Store.open(args.store), args.urls, limit=args.limit, client=Client(pause=args.pause))
    print(found.line())
    return 0 if found.listed or not found.failed else 1


@command("scrape track")
def _scrape_track(args: argparse.Namespace) -> int:
    from miles.collect.ladder import Ladder, parse_span
    from miles.collect.track import track
    from miles.collect.ytdlp import Client

    ladder = Ladder.parse(args.ages)
    every = parse_span(args.every).total_seconds() if args.every else None
    store = _open(args)
    client = Client(pause=args.pause)
    api = None
    if args.via == "youtube-api":
        from miles.collect.youtube_api import DataAPI

        api = DataAPI()
    def one() -> bool:
        summary = track(store, ladder, max_requests=args.max_requests, client=client, progress=not args.quiet,
                        api=api)
        print(summary.line(), flush=True)
        return summary.stopped

    return _repeat(every, one)


def _repeat(every: float | None, one_pass) -> int:
    """``one_pass`` once, or every ``every`` seconds until it says stop or Ctrl-C comes between passes."""
    import time

    while True:
        if one_pass() or every is None:
            return 0
        try:
            time.sleep(every)
        except KeyboardInterrupt:  # between passes: nothing is half-written
            print("stopped", file=sys.stderr)
            return 0


@command("scrape simulate")
def _scrape_simulate(args: argparse.Namespace) -> int:
    import json

    from miles.collect.ladder import parse_span
    from miles.collect.simulate import simulate
    from miles.store import Store

    store = Store.open(args.store)
    report = simulate(store, videos=args.videos, days=args.days, seed=args.seed, ages=args.ages,
                      step_hours=parse_span(args.step).total_seconds() / 3600, progress=not args.quiet)
    if args.json:
        print(json.dumps(report.__dict__, indent=1))
    else:
        print(report.table())
        print(f"\nthe store is ready: miles embed --store {store} && miles eval --store {store}")
    return 0



@command("watch")
def _watch(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from miles.collect.ladder import Ladder, parse_span
    from miles.collect.track import track
    from miles.errors import MilesError
    from miles.queries.watch import alert_line, watch_pass
    from miles.sources.parse import parse_time

    if args.at and not args.no_track:
        raise MilesError("--at replays scores only: give --no-track with it (a track pass fetches what is live now)")
    if args.alert_above is not None and args.alert_above >= 1:
        raise MilesError(f"--alert-above is a probability below 1, got {args.alert_above:g}")
    every = parse_span(args.every).total_seconds() if args.every else None
    ladder = Ladder.parse(args.ages)
    store = _open(args)
    def one() -> bool:
        if not args.no_track:
            print(track(store, ladder, max_requests=args.max_requests, progress=not args.quiet).line(), flush=True)
        now = parse_time(args.at) if args.at else datetime.now(timezone.utc)
        summary = watch_pass(store, now, args.head, args.alert_above, args.alert_command, args.alert_timeout)
        print(summary.line(), flush=True)
        for a in summary.alerts:
            print(alert_line(a), flush=True)
        for problem in summary.failed_alerts:
            print(f"alert not delivered: {problem}", file=sys.stderr, flush=True)
        return False

    return _repeat(every, one)
