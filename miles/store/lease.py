"""The writer lock of a store on S3: a lease object written with conditional PUTs.

``<prefix>/.miles-write.lock`` holds ``{"owner", "pid", "host", "command", "since", "expires"}``.

- Taking it is a PUT with ``If-None-Match: *``: of two writers that try at once, S3 lets one create it.
- The holder renews it every third of its term with ``If-Match`` on its own ETag.
- A lease past its expiry (its writer died) is taken over with ``If-Match`` on the stale ETag, so of two
  waiters only one gets it. Expiry is judged by the waiter's clock: keep clocks within a term.
- Release is a DELETE with ``If-Match``: a writer never deletes a lease it lost.

The term is ``$MILES_LEASE_SECONDS`` (default 60). Needs boto3 (``pip install 'miles[s3]'``).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid

from miles.errors import MilesError

log = logging.getLogger(__name__)
LOCK_NAME = ".miles-write.lock"  # the local lock file and the lease object have the same name
_LOST = ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "404", "409", "412")


def holder_text(info: dict) -> str:
    """'miles ingest, pid 12' (and the host, for a lease on object storage) from a lock's record."""
    where = f" on {info['host']}" if info.get("host") else ""
    return f"miles {info.get('command', '?')}, pid {info.get('pid', '?')}{where}"


def busy(store, holder: str, wait: float) -> MilesError:
    return MilesError(f"another Miles process ({holder}) is writing to {store}; waited {wait:g} s: run this "
                      "again when it has finished")


def term() -> float:
    try:
        return max(1.0, float(os.environ.get("MILES_LEASE_SECONDS", "60")))
    except ValueError:
        return 60.0


def s3_client(location):
    """A boto3 S3 client from the store's settings (the same as Lance's)."""
    try:
        import boto3
    except ImportError:
        raise MilesError("writing to a store on S3 needs boto3: pip install 'miles[s3]'") from None
    opts = location.storage_options
    return boto3.client("s3", endpoint_url=opts.get("aws_endpoint"), region_name=opts.get("aws_region"),
                        aws_access_key_id=opts.get("aws_access_key_id"),
                        aws_secret_access_key=opts.get("aws_secret_access_key"),
                        aws_session_token=opts.get("aws_session_token"))


def _code(err) -> str:
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))


class Lease:
    def __init__(self, location, command: str):
        self.location, self.command = location, command
        bucket, _, prefix = location.uri.split("://", 1)[1].partition("/")
        self.bucket, self.key = bucket, f"{prefix.strip('/')}/{LOCK_NAME}".lstrip("/")
        self.client = s3_client(location)
        self.owner = uuid.uuid4().hex
        self.etag: str | None = None
        self.lost = False
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _record(self) -> bytes:
        now = time.time()
        return json.dumps({"owner": self.owner, "pid": os.getpid(), "host": socket.gethostname(),
                           "command": self.command, "since": now, "expires": now + term()}).encode()

    def _put(self, **condition) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.etag = self.client.put_object(Bucket=self.bucket, Key=self.key, Body=self._record(),
                                               **condition)["ETag"]
            return True
        except ClientError as err:
            if _code(err) in _LOST:
                return False
            raise MilesError(f"cannot write the writer lease of {self.location}: {err}") from err

    def _current(self) -> tuple[dict, str] | None:
        from botocore.exceptions import ClientError

        try:
            got = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as err:
            if _code(err) in ("NoSuchKey", "404"):
                return None
            raise MilesError(f"cannot read the writer lease of {self.location}: {err}") from err
        try:
            info = json.loads(got["Body"].read().decode())
        except ValueError:
            info = {}
        return info, got["ETag"]

    def acquire(self, wait: float) -> None:
        start = time.monotonic()
        info: dict = {}
        while True:
            if self._put(IfNoneMatch="*"):
                break
            current = self._current()
            if current is not None:
                info, etag = current
                if float(info.get("expires", 0)) < time.time():
                    log.warning("the writer lease of %s (%s) expired: taking it over", self.location,
                                holder_text(info))
                    if self._put(IfMatch=etag):
                        break
            if time.monotonic() - start >= wait:
                raise busy(self.location, holder_text(info), wait)
            time.sleep(0.2)
        self._renewer = threading.Thread(target=self._renew, name="miles-lease", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(term() / 3):
            if not self._put(IfMatch=self.etag):
                self.lost = True
                log.error("lost the writer lease of %s: another writer took it over (this one stalled past "
                          "its %g s term)", self.location, term())
                return

    def release(self) -> None:
        from botocore.exceptions import ClientError

        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        if self.lost:
            return
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=self.etag)
        except ClientError as err:
            log.warning("could not release the writer lease of %s: %s", self.location, err)
