"""What a page names is fetched within bounds: a deadline for the whole thumbnail however slowly it comes,
and never an address more private than the page's own (no SSRF from a page on the internet)."""

import http.server
import socketserver
import threading
import time

import pytest

from miles.collect.ytdlp import Client, Failed
from miles.net import Refused, get_bytes
from tests.conftest import jpeg_bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/slow.jpg":  # one byte every half second, for ever (as far as the client can tell)
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(200):
                try:
                    self.wfile.write(b"\xff")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.5)
        elif self.path == "/to-file":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        else:
            body = jpeg_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    socketserver.ThreadingTCPServer.daemon_threads = True
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_a_public_page_cannot_send_the_collector_to_this_machine(server):
    client = Client(pause=0)
    info = {"thumbnail": f"{server}/t.jpg", "webpage_url": "https://www.youtube.com/shorts/abc"}
    with pytest.raises(Failed, match="local, private or reserved"):
        client.thumbnail(info)
    for url in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x.jpg", "http://[::1]/x.jpg"):
        with pytest.raises(Refused):
            get_bytes(url, deadline=2)


def test_a_local_page_may_name_a_local_thumbnail(server):
    data = Client(pause=0).thumbnail({"thumbnail": f"{server}/t.jpg", "webpage_url": f"{server}/watch/1"})
    assert data == jpeg_bytes()


def test_a_redirect_is_checked_too(server):
    with pytest.raises(Refused, match="local, private or reserved"):  # the metadata address: never, even locally
        get_bytes(f"{server}/to-file", deadline=5, local_ok=True)


def test_a_thumbnail_that_trickles_ends_at_the_deadline(server):
    t = time.monotonic()
    with pytest.raises(Failed, match="deadline|within|timed out"):
        Client(pause=0).thumbnail({"thumbnail": f"{server}/slow.jpg", "webpage_url": f"{server}/watch/1"},
                                  deadline=2)
    assert time.monotonic() - t < 4


def test_a_page_that_trickles_ends_at_the_deadline_and_the_client_goes_on(server):
    client = Client(pause=0, deadline=2)
    t = time.monotonic()
    with pytest.raises(Failed, match="within 2 s"):
        client.video(f"{server}/slow.jpg")
    assert time.monotonic() - t < 4
    assert client.thumbnail({"thumbnail": f"{server}/t.jpg", "webpage_url": f"{server}/watch/1"}) == jpeg_bytes()


def test_a_public_listing_cannot_send_the_collector_to_local_pages():
    from miles.collect.discover import allowed

    found = [("a", "https://www.youtube.com/shorts/a", "youtube"), ("b", "http://127.0.0.1:8080/admin", "youtube"),
             ("c", "http://169.254.169.254/latest/meta-data/", "youtube"), ("d", "http://10.1.2.3/x", "youtube")]
    kept, refused = allowed("https://www.youtube.com/@someone/shorts", found)
    assert [e[0] for e in kept] == ["a"] and len(refused) == 3
    kept, _ = allowed("http://127.0.0.1:8080/sim/@c/shorts", found)  # a listing served on this machine
    assert [e[0] for e in kept] == ["a", "b", "d"]  # its own pages; never the metadata address


def test_every_connection_a_public_page_makes_is_held_to_the_rule(server):
    import urllib.request

    from miles.net import public_only

    with public_only(), pytest.raises(Refused):  # at the socket: redirects and DNS answers included
        urllib.request.urlopen(f"{server}/t.jpg", timeout=5)
    assert urllib.request.urlopen(f"{server}/t.jpg", timeout=5).read() == jpeg_bytes()  # outside: no rule
    page = Client(pause=0, allow_local=False)  # as if the page were on the internet
    with pytest.raises(Failed, match="local, private or reserved"):
        page.video(f"{server}/watch/1")
