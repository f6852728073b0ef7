"""The ``miles scrape`` parsers: discover, track, simulate (the commands are in ``miles.cli.commands``)."""

from __future__ import annotations

import argparse

from miles.cli.flags import COUNT, POSITIVE_INT, _number, _store_arg
from miles.collect.ladder import DEFAULT_AGES


def _action(subs, name: str, help: str, example: str) -> argparse.ArgumentParser:
    p = subs.add_parser(name, help=help, description=help, epilog=f"example:\n  {example}",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(command=f"scrape {name}")
    _store_arg(p)
    return p


def add_scrape(subs) -> None:
    p = subs.add_parser("scrape", help="Collect videos with yt-dlp and watch them grow on a ladder of ages.",
                        description="Collect videos with yt-dlp and watch them grow on a ladder of ages.",
                        epilog="example:\n  miles scrape discover https://www.youtube.com/@handle/shorts --store s\n"
                               "  miles scrape track --store s --once\n  miles scrape simulate --store sim-store",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(command="scrape")
    actions = p.add_subparsers(title="scrape commands", metavar="ACTION")

    d = _action(actions, "discover", "Add the videos that channels, playlists, searches or URLs list to the "
                "tracked table (no snapshots: listings round their counts).",
                "miles scrape discover https://www.youtube.com/@handle/shorts 'ytsearch20:ramen hack' --store s")
    d.add_argument("urls", nargs="+", metavar="URL", help="a channel's Shorts tab, a playlist, ytsearchN:..., a video")
    d.add_argument("--limit", type=POSITIVE_INT, default=None, help="at most this many videos per URL")
    d.add_argument("--pause", type=_number(float, 0, "0 or more seconds"), default=2.0,
                   help="seconds between requests (default 2)")

    t = _action(actions, "track", "Fetch each tracked video that has reached an age on the ladder and has no "
                "snapshot there yet; store its counts now.", "miles scrape track --store s --every 15m")
    when = t.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="one pass, then exit (the default; for cron)")
    when.add_argument("--every", default=None, metavar="SPAN", help="a pass every SPAN (e.g. 15m) until Ctrl-C")
    t.add_argument("--max-requests", type=POSITIVE_INT, default=500, help="videos fetched per pass at most (default 500)")
    t.add_argument("--ages", nargs="+", default=list(DEFAULT_AGES), metavar="AGE",
                   help="the ladder (default: " + " ".join(DEFAULT_AGES) + ")")
    t.add_argument("--pause", type=_number(float, 0, "0 or more seconds"), default=2.0,
                   help="seconds between requests (default 2)")
    t.add_argument("--via", default="yt-dlp", choices=["yt-dlp", "youtube-api"],
                   help="where repeated YouTube counts come from: yt-dlp (default) or the YouTube Data API, 50 "
                        "videos a call, with the key in $MILES_YOUTUBE_API_KEY (first fetches always use yt-dlp)")

    s = _action(actions, "simulate", "Run the collection loop offline: a simulated platform on 127.0.0.1 whose "
                "views grow on a fake clock, discovered and tracked through yt-dlp; report the label error.",
                "miles scrape simulate --store sim-store --videos 200 --days 30")
    s.add_argument("--videos", type=POSITIVE_INT, default=200, help="videos on the platform (default 200)")
    s.add_argument("--days", type=_number(float, 0, "a positive number of days", strict=True), default=30.0,
                   help="simulated days (default 30)")
    s.add_argument("--ages", nargs="+", default=list(DEFAULT_AGES), metavar="AGE", help="the ladder")
    s.add_argument("--step", default="1h", metavar="SPAN", help="simulated time between track passes (default 1h)")
    s.add_argument("--seed", type=COUNT, default=0, help="seed of the simulated platform (default 0)")
    s.add_argument("--json", action="store_true", help="print JSON")


def add_watch(subs) -> None:
    from miles.heads.registry import DEFAULT_HEAD, list_heads

    help = ("Score the live videos as they grow: a track pass, then every video younger than the label age "
            "scored at its latest moment and stored in the scores table; alert the first time one crosses a P.")
    w = subs.add_parser("watch", help=help, description=help, formatter_class=argparse.RawDescriptionHelpFormatter,
                        epilog="example:\n  miles watch --store s --every 15m --alert-above 0.5 "
                               "--alert-command 'notify.py --channel shorts'")
    w.set_defaults(command="watch")
    _store_arg(w)
    when = w.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="one pass, then exit (the default; for cron)")
    when.add_argument("--every", default=None, metavar="SPAN", help="a pass every SPAN (e.g. 15m) until Ctrl-C")
    w.add_argument("--alert-above", type=_number(float, 0, "a probability between 0 and 1", strict=True), default=None,
                   metavar="P", help="alert when a video's P(viral) reaches P for the first time")
    w.add_argument("--alert-command", default=None, metavar="CMD",
                   help="run CMD (no shell) for each alert, with the alert as JSON on its standard input")
    w.add_argument("--alert-timeout", type=_number(float, 0, "a positive number of seconds", strict=True), default=10.0,
                   metavar="S", help="seconds an alert command may run (default 10)")
    w.add_argument("--head", default=DEFAULT_HEAD, choices=list_heads(), help=f"the trained head (default {DEFAULT_HEAD})")
    w.add_argument("--no-track", action="store_true", help="score only: no track pass before (another job tracks)")
    w.add_argument("--ages", nargs="+", default=list(DEFAULT_AGES), metavar="AGE", help="the track pass's ladder")
    w.add_argument("--max-requests", type=POSITIVE_INT, default=500, help="videos fetched per track pass at most")
    w.add_argument("--at", default=None, metavar="ISO", help="score as if it were this time (default now; "
                   "with --no-track, to replay a day)")
