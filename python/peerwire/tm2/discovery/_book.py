"""The discovery address book: discovered peers kept across restarts (gno ``discovery/store.go``).

File format is gno's, so a node can take over a gnoland ``addrbook.json``::

    {"peers": [{"addr": "g1…@1.2.3.4:26656", "last_seen": 1700000000, "last_connected": 1700000100}]}

- At most ``max_entries`` (1000) addresses; past it, addresses we have not
  dialed successfully in the last 24 h go first, those seen longest ago
  leading (gno's eviction order).
- Our own address (same ID or same ``ip:port``) is never stored.
- Writes are atomic and private (:func:`peerwire._net.write_private_file`:
  temporary file, fsync, rename, mode 0600): a crash leaves the old file or
  the new one, never half of one. A corrupt file
  is kept aside as ``<file>.corrupt`` and the book starts empty.
- Only valid addresses (see ``NetAddress.validate``) are loaded.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._net import write_private_file
from peerwire.errors import DecodeError
from peerwire.tm2._addr import AddressError, NetAddress

__all__ = ["DEFAULT_MAX_ENTRIES", "MAX_FILE_SIZE", "AddressBook"]

DEFAULT_MAX_ENTRIES = 1000
CONNECTED_EXPIRY = 24 * 3600.0
# A book of 1000 entries is ~120 KB; refuse to parse a file far beyond that.
MAX_FILE_SIZE = 4 * 1024 * 1024


@dataclass
class _Known:
    addr: NetAddress
    last_seen: float
    last_connected: float = 0.0


class AddressBook:
    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        own: NetAddress | None = None,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.own = own
        self.max_entries = max(1, max_entries)
        self.clock = clock
        self._peers: dict[str, _Known] = {}
        self.dirty = False

    def __len__(self) -> int:
        return len(self._peers)

    def __contains__(self, addr: object) -> bool:
        return str(addr) in self._peers

    def _is_own(self, addr: NetAddress) -> bool:
        return self.own is not None and addr.same(self.own)

    def addresses(self) -> list[NetAddress]:
        return [k.addr for k in self._peers.values()]

    def add(self, *addrs: NetAddress) -> int:
        """Record addresses (seen now). Returns how many were new."""
        now = self.clock.time()
        new = 0
        for a in addrs:
            if self._is_own(a) or not a.is_valid():
                continue
            key = str(a)
            known = self._peers.get(key)
            if known is not None:
                known.last_seen = now
                continue
            self._peers[key] = _Known(a, now)
            new += 1
            self.dirty = True
        self._evict()
        return new

    def mark_connected(self, addr: NetAddress) -> None:
        known = self._peers.get(str(addr))
        if known is not None:
            known.last_connected = self.clock.time()
            self.dirty = True

    def _evict(self) -> None:
        excess = len(self._peers) - self.max_entries
        if excess <= 0:
            return
        now = self.clock.time()

        def order(k: _Known) -> tuple[bool, float]:
            connected = now - k.last_connected < CONNECTED_EXPIRY
            return (connected, k.last_connected if connected else k.last_seen)

        for k in sorted(self._peers.values(), key=order)[:excess]:
            del self._peers[str(k.addr)]
        self.dirty = True

    # -- persistence ---------------------------------------------------------------------------------
    def load(self) -> int:
        """Read the file (a missing one is an empty book). Returns the number of entries."""
        if self.path is None or not self.path.exists():
            return 0
        try:
            if self.path.stat().st_size > MAX_FILE_SIZE:
                raise DecodeError("address book file too large")
            raw = json.loads(self.path.read_text())
            entries = raw["peers"]
            if not isinstance(entries, list):
                raise DecodeError("peers is not a list")
        except (OSError, ValueError, KeyError, TypeError, DecodeError):
            with contextlib.suppress(OSError):
                os.replace(self.path, self.path.with_name(self.path.name + ".corrupt"))
            return 0
        now = self.clock.time()
        for e in entries:
            if not isinstance(e, dict):
                continue
            try:
                addr = NetAddress.parse(str(e.get("addr", "")))
                addr.validate()
            except AddressError:
                continue
            if self._is_own(addr):
                continue
            seen = e.get("last_seen") or now
            conn = e.get("last_connected") or 0
            if not isinstance(seen, int | float) or not isinstance(conn, int | float):
                continue
            self._peers[str(addr)] = _Known(addr, float(seen), float(conn))
        self._evict()
        self.dirty = False
        return len(self._peers)

    def snapshot(self) -> bytes:
        entries = []
        for k in self._peers.values():
            e: dict[str, object] = {"addr": str(k.addr), "last_seen": int(k.last_seen)}
            if k.last_connected:
                e["last_connected"] = int(k.last_connected)
            entries.append(e)
        return json.dumps({"peers": entries}, indent="\t").encode()

    def save(self, force: bool = False) -> bool:
        """Write the file atomically if anything changed (or ``force``). Returns whether it wrote."""
        if self.path is None or not (self.dirty or force):
            return False
        data = self.snapshot()
        self.dirty = False
        try:
            write_private_file(self.path, data)
        except BaseException:
            self.dirty = True
            raise
        return True
