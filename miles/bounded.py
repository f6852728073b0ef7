"""The one cache Miles keeps between calls: bounded in entries, optionally in age, least recently used out.

    versions = Bounded(256)                              # a table's version per folder
    remote = Bounded(256, max_age=1.0)                   # an answer from object storage, kept for a second
    view = views.get(path, make, valid=lambda v: v.versions == now)   # rebuilt when stale

Every cache in a process (table versions and metadata, file checksums, the query caches of a store's view,
its vectors and indexes, the deployed heads) is one of these, so opening many stores in one process
holds a bounded number of each: a store's entry is replaced when its version moves on, and the least
recently used store's entries go first. Thread-safe; this module imports nothing from Miles.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class Bounded:
    def __init__(self, size: int, max_age: float | None = None):
        if size < 1:
            raise ValueError(f"a cache holds at least one entry, got size {size}")  # internal: a bug, not input
        self.size, self.max_age = size, max_age
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return self._lookup(key)[0]

    def _lookup(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return False, None
            if self.max_age is not None and time.monotonic() - hit[0] >= self.max_age:
                del self._items[key]
                return False, None
            self._items.move_to_end(key)
            return True, hit[1]

    def peek(self, key: Hashable) -> Any | None:
        """The value kept for ``key`` (None when there is none, or it is older than ``max_age``)."""
        return self._lookup(key)[1]

    def put(self, key: Hashable, value: Any) -> Any:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def get(self, key: Hashable, make: Callable[[], Any], valid: Callable[[Any], bool] | None = None) -> Any:
        """The kept value, or ``make()`` kept and returned (also when ``valid`` says the kept one is stale).
        ``make`` runs outside the lock: two threads may both make a missing value; the later one is kept."""
        found, hit = self._lookup(key)
        if found and (valid is None or valid(hit)):
            return hit
        return self.put(key, make())

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
