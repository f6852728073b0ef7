"""``miles serve`` as a user starts it: a real uvicorn server on the IPv6 loopback answers for its own
address (the Host header ``[::1]:PORT``) and says where it listens in a form a browser takes."""

import http.client
import os
import select
import socket
import subprocess
import sys
import time

import pytest


def _ipv6_port() -> int | None:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
            return s.getsockname()[1]
    except OSError:
        return None


def _get(port: int, path: str, host: str) -> int:
    conn = http.client.HTTPConnection("::1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        return conn.getresponse().status
    finally:
        conn.close()


def test_serve_on_the_ipv6_loopback_answers_its_own_address(demo_store):
    port = _ipv6_port()
    if port is None:
        pytest.skip("no IPv6 loopback here")
    proc = subprocess.Popen([sys.executable, "-m", "miles.cli", "serve", "--store", str(demo_store.path),
                             "--host", "::1", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline, status = time.monotonic() + 120, None
        ready = select.select([proc.stdout], [], [], 120)[0]  # it prints once the models are loaded
        line = proc.stdout.readline() if ready else ""
        assert f"on http://[::1]:{port}/ " in line, line or "nothing printed in 120 s"
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = _get(port, "/healthz", f"[::1]:{port}")
                break
            except OSError:  # not listening yet
                time.sleep(0.2)
        assert status == 200
        assert _get(port, "/healthz", "[::1]") == 200
        assert _get(port, "/healthz", "evil.example") == 400
    finally:
        proc.terminate()
        proc.wait(timeout=30)
