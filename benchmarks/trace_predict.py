"""The rooms a warm ``miles predict --title`` passes through, traced with ``sys.setprofile``.

    python benchmarks/trace_predict.py --store demo-store [--title "Wait for it..."]

Prints a table: the modules and rooms (packages of ``miles``) the call enters, the steps from one module to
another, the climbs (a step into a room on a higher floor than the one it leaves: code reaching back up)
and the returns (a step into a module the call had already left). Fewer of each is a house that is easier
to follow. A lambda, a comprehension or a generator resuming is counted as part of the function that
wrote it (a cache's ``valid=lambda`` called back from ``miles.bounded`` is not a climb). The call is made twice and the second, warm, call is traced.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def trace(call) -> list[str]:
    seen: list[str] = []

    def profile(frame, event, arg):
        if event == "call" and not frame.f_code.co_name.startswith("<"):  # lambdas, comprehensions and
            mod = frame.f_globals.get("__name__", "")                      # generators are their function's
            if mod.startswith("miles.") and (not seen or seen[-1] != mod):
                seen.append(mod)

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return seen


def main() -> None:
    from tests.test_layers import floor

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--title", default="Wait for it... the crispiest ramen hack")
    args = ap.parse_args()

    from miles.queries.predict import predict
    from miles.store import Store

    store = Store.open(args.store, must_exist=True)
    predict(store, title=args.title)
    path = trace(lambda: predict(store, title=args.title))
    rooms = [m.split(".")[1] for m in path]
    climbs = sum(floor(b) > floor(a) for a, b in zip(path, path[1:]) if a.split(".")[1] != b.split(".")[1])
    returns = sum(m in path[:i - 1] for i, m in enumerate(path) if i)
    print(f"# a warm predict --title · {platform.node()} · {time.strftime('%Y-%m-%d')}")
    print(f"{'modules':>8} {'rooms':>6} {'steps':>6} {'climbs':>7} {'returns':>8}")
    print(f"{len(set(path)):>8} {len(set(rooms)):>6} {len(path) - 1:>6} {climbs:>7} {returns:>8}")
    print("rooms in order of first entry:", " → ".join(dict.fromkeys(rooms)))


if __name__ == "__main__":
    main()
