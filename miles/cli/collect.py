"""The ``miles scrape`` subcommands (their flags are in ``miles.cli.scrape``): discover, track, simulate."""

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
    import time

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
    while True:
        summary = track(store, ladder, max_requests=args.max_requests, client=client, progress=not args.quiet,
                        api=api)
        print(summary.line(), flush=True)
        if every is None or summary.stopped:
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

