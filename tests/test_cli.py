import json
import subprocess
import sys
import time

import pytest

from miles.cli import build_parser, main


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "miles.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("miles ")
    r = run("--help")
    assert r.returncode == 0 and "ingest" in r.stdout and "sql" in r.stdout


def subcommands():
    parser = build_parser()
    subs = parser._subparsers._group_actions[0].choices
    return sorted(subs)


@pytest.mark.parametrize("name", subcommands())
def test_every_subcommand_has_help_with_example(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([name, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and f"miles {name}" in out


@pytest.mark.parametrize("group", ["store", "runs", "scrape"])
def test_a_command_group_without_its_action_says_so(group, capsys):
    assert main([group]) == 2
    assert f"`miles {group} --help` lists them" in capsys.readouterr().err


def test_help_is_fast():
    t = time.perf_counter()
    assert run("--help").returncode == 0
    assert time.perf_counter() - t < 5.0  # heavy modules are imported lazily


def test_ingest_sql_info_roundtrip(tmp_path):
    from tests.sources.fixtures import nasty_csv

    path = nasty_csv(tmp_path / "in")
    store = tmp_path / "st"
    r = run("-q", "ingest", str(path), "--store", str(store))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("read 12 · stored 5") and "rejected 7" in r.stdout
    r = run("sql", "SELECT video_id FROM videos ORDER BY video_id", "--store", str(store), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert [x["video_id"] for x in json.loads(r.stdout)] == ["v1", "v11", "v7", "v8", "v9"]
    r = run("sql", "SELECT video_id, views FROM snapshots ORDER BY views", "--store", str(store), "--format", "csv")
    assert r.stdout.splitlines()[0] == '"video_id","views"'
    r = run("sql", "DELETE FROM videos", "--store", str(store))
    assert r.returncode == 2 and "read-only" in r.stderr
    r = run("store", "info", "--store", str(store), "--json")
    tables = {t["table"]: t for t in json.loads(r.stdout)["tables"]}
    assert tables["videos"]["rows"] == 5 and tables["rejects"]["rows"] == 9
    assert set(json.loads(r.stdout)["bracketed"]) == {"videos", "168h", "1h", "6h", "24h"}
    r = run("store", "info", "--store", str(store), "--label-age", "48")
    assert "bracket each age (of 5): 48h" in r.stdout and "(the label)" in r.stdout


def test_missing_store_is_clear(tmp_path):
    r = run("sql", "SELECT 1", "--store", str(tmp_path / "nope"))
    assert r.returncode == 2 and "no Miles store" in r.stderr
    r = run("ingest", str(tmp_path / "missing.csv"), "--store", str(tmp_path / "s"))
    assert r.returncode == 2 and "no such input" in r.stderr


def _flags():
    """{subcommand: {option string: argparse action}} over every subcommand (and ``store info``)."""
    import argparse

    parser = build_parser()
    subs = parser._subparsers._group_actions[0].choices
    out = {}
    for name, sub in subs.items():
        out[name] = {o: a for a in sub._actions for o in a.option_strings}
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                for inner, p in action.choices.items():
                    out[f"{name} {inner}"] = {o: a for a in p._actions for o in a.option_strings}
    return out


def test_every_flag_has_help():
    missing = [f"{cmd} {flag}" for cmd, flags in _flags().items() for flag, a in flags.items()
               if flag not in ("-h", "--help") and not (a.help or "").strip()]
    assert not missing, missing


def test_the_same_flag_means_the_same_everywhere():
    seen: dict[str, tuple] = {}
    clash = []
    for cmd, flags in _flags().items():
        for flag, a in flags.items():
            if flag in ("-h", "--help", "--format", "--limit", "--seed", "--thumbnail", "--modality", "--title",
                        "--platform", "--batch-size", "-k", "--head", "--heads", "--videos"):
                continue
            kind = (type(a).__name__, a.nargs, str(a.default) if flag != "--moments" else "")
            if seen.setdefault(flag, kind) != kind:
                clash.append(f"{flag} in {cmd}: {kind} vs {seen[flag]}")
    assert not clash, clash
    flags = _flags()
    assert all(type(f["--json"]).__name__ == "_StoreTrueAction" for f in flags.values() if "--json" in f)
    assert {c for c, f in flags.items() if "--heads" in f} == {"eval", "train"}
    assert all(flags[c]["--heads"].nargs == "+" and flags[c]["--moments"].nargs == "+" for c in ("eval", "train"))
    assert {c for c, f in flags.items() if "--head" in f} == {"predict", "recommend", "serve", "watch"}
    assert all(flags[c]["--head"].nargs is None for c in ("predict", "recommend", "serve", "watch"))


def test_internal_errors_say_so_and_show_the_traceback_with_v(tmp_path, monkeypatch, capsys):
    from miles.cli import COMMANDS

    def broken(args):
        return {}["missing"]

    monkeypatch.setitem(COMMANDS, "encoders", broken)
    assert main(["encoders"]) == 1
    err = capsys.readouterr().err
    assert "internal error: KeyError" in err and "-v" in err and "Traceback" not in err
    with pytest.raises(KeyError):
        main(["-v", "encoders"])


@pytest.mark.parametrize("args, message", [
    (["ingest", "x.csv", "--batch-size", "0"], "at least 1"),
    (["embed", "--batch-size", "-4"], "at least 1"),
    (["similar", "--title", "x", "-k", "0"], "at least 1"),
    (["sql", "SELECT 1", "--limit", "-1"], "0 or more"),
    (["sql", "SELECT 1", "--timeout", "0"], "positive"),
    (["predict", "--title", "x", "--duration", "nan"], "positive number of seconds"),
    (["predict", "--title", "x", "--followers", "-5"], "0 or more"),
    (["eval", "--viral-fraction", "0"], "a fraction"),
    (["demo", "--videos", "zero"], "whole number"),
])
def test_numeric_flags_are_checked(args, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["sql", b"SELECT '\xff' AS x"],
    ["predict", "--title", b"caf\xe9"],
    ["predict", "--title", "ok", "--hashtags", b"#caf\xe9"],
    ["similar", "--title", b"caf\xe9"],
])
def test_arguments_that_are_not_utf8_are_refused_in_one_line(demo_store, args):
    """Python hands such bytes over as surrogates; they were an internal error deep inside (exit 1)."""
    r = subprocess.run([sys.executable, "-m", "miles.cli", *args, "--store", str(demo_store.path)],
                       capture_output=True, timeout=300)
    err = r.stderr.decode("utf-8", "replace").strip().splitlines()
    assert r.returncode == 2 and len(err) == 1 and "is not UTF-8 (byte 0x" in err[0], err
    assert "internal error" not in err[0]


@pytest.mark.parametrize("when, message", [("20261340", "not a date"), ("30000101", "outside 1970..2100"),
                                           ("1969-12-31T23:00:00Z", "outside 1970..2100")])
def test_a_publish_time_out_of_range_is_an_input_error(demo_store, when, message):
    r = run("predict", "--store", str(demo_store.path), "--title", "ok", "--publish-at", when)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
