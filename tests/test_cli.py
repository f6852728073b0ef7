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


def test_missing_store_is_clear(tmp_path):
    r = run("sql", "SELECT 1", "--store", str(tmp_path / "nope"))
    assert r.returncode == 2 and "no Miles store" in r.stderr
    r = run("ingest", str(tmp_path / "missing.csv"), "--store", str(tmp_path / "s"))
    assert r.returncode == 2 and "no such input" in r.stderr
