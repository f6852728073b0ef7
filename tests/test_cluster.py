"""Starting Ray from a process that has used Lance: Ray's daemons are forked and exec'd at once, which is
safe, so Lance's and LanceDB's fork warnings must not reach the user's terminal."""

import subprocess
import sys

import pytest

SCRIPT = """
import lance, lancedb, pyarrow as pa, sys
lance.write_dataset(pa.table({"a": [1, 2]}), sys.argv[1] + "/t.lance")
lancedb.connect(sys.argv[1]).open_table("t").count_rows()
from miles.cluster import start_ray
start_ray()
start_ray()  # a second call joins the first
import ray
print(ray.cluster_resources().get("CPU"))
ray.shutdown()
"""


def test_starting_ray_after_lance_prints_no_fork_warning(tmp_path):
    pytest.importorskip("ray", reason="needs `pip install 'miles[ray]'`")
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.strip()) >= 1
    assert "fork" not in done.stderr.lower(), done.stderr[-2000:]
