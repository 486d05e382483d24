"""The crawl database: SQLite (WAL), one row per node plus every endpoint it was seen at.

Writes are grouped into short transactions (``COMMIT_INTERVAL``); what a
transaction committed survives a SIGKILL (WAL, ``synchronous=NORMAL`` loses
only on power failure). A restarted crawl reads the known nodes back.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["BAN_AFTER_FAILURES", "BASE_BACKOFF", "MAX_BACKOFF", "DialTarget", "Store"]

#: Seconds between commits: bounds what a crash can lose to this much crawl time.
COMMIT_INTERVAL = 0.5
#: Dial backoff: BASE_BACKOFF * 2**(fails-1), capped, so a dead node costs little.
BASE_BACKOFF = 30.0
MAX_BACKOFF = 3600.0
#: A node that failed this many dials in a row is banned (never dialed again).
BAN_AFTER_FAILURES = 5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nodes (
  id TEXT PRIMARY KEY, stack TEXT NOT NULL, pubkey TEXT,
  first_seen REAL NOT NULL, last_seen REAL NOT NULL,
  ip TEXT, tcp INTEGER, udp INTEGER,
  enr TEXT, enr_seq INTEGER, via TEXT,
  client TEXT, caps TEXT, p2p_version INTEGER,
  eth_version INTEGER, network_id TEXT, genesis TEXT, fork_hash TEXT, fork_next INTEGER,
  head TEXT, head_number INTEGER, snap INTEGER,
  info TEXT,
  dial_ok INTEGER, dialed_at REAL, fails INTEGER NOT NULL DEFAULT 0, next_dial REAL NOT NULL DEFAULT 0,
  banned INTEGER NOT NULL DEFAULT 0, last_error TEXT, inbound INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS endpoints (
  id TEXT NOT NULL, ip TEXT NOT NULL, tcp INTEGER NOT NULL, udp INTEGER NOT NULL,
  first_seen REAL NOT NULL, last_seen REAL NOT NULL,
  PRIMARY KEY (id, ip, tcp, udp)
);
"""


@dataclass(frozen=True, slots=True)
class DialTarget:
    id: str
    pubkey: str | None
    ip: str
    tcp: int


class Store:
    """The crawl's SQLite database (``path`` ``":memory:"`` for tests)."""

    def __init__(self, path: str | Path, *, clock: Any = time.time) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._now = clock
        self._in_tx = False
        self._last_commit = 0.0

    # -- transactions --------------------------------------------------------------
    def _begin(self) -> None:
        if not self._in_tx:
            self._db.execute("BEGIN")
            self._in_tx = True

    def commit(self) -> None:
        if self._in_tx:
            self._db.execute("COMMIT")
            self._in_tx = False
        self._last_commit = time.monotonic()

    def maybe_commit(self) -> None:
        if self._in_tx and time.monotonic() - self._last_commit >= COMMIT_INTERVAL:
            self.commit()

    def close(self) -> None:
        self.commit()
        self._db.close()

    # -- writes --------------------------------------------------------------------
    def seen(
        self,
        node_id: str,
        stack: str,
        *,
        ip: str | None,
        tcp: int = 0,
        udp: int = 0,
        pubkey: str | None = None,
        enr: str | None = None,
        enr_seq: int | None = None,
        via: str | None = None,
    ) -> bool:
        """Record a sighting; returns True if the node is new to the database."""
        now = self._now()
        self._begin()
        cur = self._db.execute(
            "INSERT INTO nodes (id, stack, pubkey, first_seen, last_seen, ip, tcp, udp, enr, enr_seq, via) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING",
            (node_id, stack, pubkey, now, now, ip, tcp, udp, enr, enr_seq, via),
        )
        new = cur.rowcount == 1
        if not new:
            self._db.execute(
                "UPDATE nodes SET last_seen=?, ip=COALESCE(?, ip), tcp=CASE WHEN ?>0 THEN ? ELSE tcp END, "
                "udp=CASE WHEN ?>0 THEN ? ELSE udp END, pubkey=COALESCE(pubkey, ?) WHERE id=?",
                (now, ip, tcp, tcp, udp, udp, pubkey, node_id),
            )
            if enr is not None:
                self._db.execute(
                    "UPDATE nodes SET enr=?, enr_seq=? WHERE id=? AND (enr_seq IS NULL OR enr_seq<=?)",
                    (enr, enr_seq, node_id, enr_seq or 0),
                )
        if ip is not None:
            self._db.execute(
                "INSERT INTO endpoints VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(id, ip, tcp, udp) DO UPDATE SET last_seen=excluded.last_seen",
                (node_id, ip, tcp, udp, now, now),
            )
        self.maybe_commit()
        return new

    def record_hello(self, node_id: str, client: str, caps: list[str], version: int) -> None:
        self._begin()
        snap = int(any(c.startswith("snap/") for c in caps))
        self._db.execute(
            "UPDATE nodes SET client=?, caps=?, p2p_version=?, snap=? WHERE id=?",
            (client, json.dumps(caps), version, snap, node_id),
        )
        self.maybe_commit()

    def record_status(
        self,
        node_id: str,
        *,
        eth_version: int,
        network_id: int,
        genesis: bytes,
        fork_hash: bytes,
        fork_next: int,
        head: bytes,
        head_number: int,
    ) -> None:
        self._begin()
        self._db.execute(
            "UPDATE nodes SET eth_version=?, network_id=?, genesis=?, fork_hash=?, fork_next=?, head=?, "
            "head_number=? WHERE id=?",
            (
                eth_version,
                str(network_id),
                genesis.hex(),
                fork_hash.hex(),
                fork_next,
                head.hex(),
                head_number,
                node_id,
            ),
        )
        self.maybe_commit()

    def record_info(self, node_id: str, info: dict[str, Any], *, client: str | None = None) -> None:
        """Stack-specific facts (TM2 NodeInfo) as JSON; ``client`` fills the client column."""
        self._begin()
        self._db.execute(
            "UPDATE nodes SET info=?, client=COALESCE(?, client), network_id=COALESCE(?, network_id) "
            "WHERE id=?",
            (json.dumps(info, sort_keys=True), client, info.get("network"), node_id),
        )
        self.maybe_commit()

    def record_dial(self, node_id: str, ok: bool, error: str | None = None, *, inbound: bool = False) -> None:
        """A dial result; failures back off exponentially and ban after BAN_AFTER_FAILURES.
        A dialable node may still carry an ``error`` (its Status failed): it is kept."""
        now = self._now()
        self._begin()
        if ok:
            self._db.execute(
                "UPDATE nodes SET dial_ok=1, dialed_at=?, fails=0, next_dial=?, last_error=?, "
                "inbound=inbound|? WHERE id=?",
                (now, now + MAX_BACKOFF, error, int(inbound), node_id),
            )
        else:
            row = self._db.execute("SELECT fails FROM nodes WHERE id=?", (node_id,)).fetchone()
            fails = (row[0] if row else 0) + 1
            backoff = min(MAX_BACKOFF, BASE_BACKOFF * 2 ** (fails - 1))
            self._db.execute(
                "UPDATE nodes SET dial_ok=COALESCE(dial_ok, 0), dialed_at=?, fails=?, next_dial=?, "
                "banned=?, last_error=? WHERE id=?",
                (now, fails, now + backoff, int(fails >= BAN_AFTER_FAILURES), error, node_id),
            )
        self.maybe_commit()

    # -- reads ---------------------------------------------------------------------
    def known_ids(self, stack: str) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT id FROM nodes WHERE stack=?", (stack,))]

    def due_for_dial(self, stack: str, limit: int = 10_000) -> list[DialTarget]:
        """Nodes with a TCP endpoint whose backoff has passed and that are not banned."""
        rows = self._db.execute(
            "SELECT id, pubkey, ip, tcp FROM nodes WHERE stack=? AND banned=0 AND next_dial<=? "
            "AND ip IS NOT NULL AND tcp>0 ORDER BY next_dial LIMIT ?",
            (stack, self._now(), limit),
        )
        return [DialTarget(r[0], r[1], r[2], r[3]) for r in rows]

    def counts(self) -> dict[str, int]:
        r = self._db.execute(
            "SELECT COUNT(*), COUNT(dialed_at), COALESCE(SUM(dial_ok), 0), COUNT(client), COUNT(genesis) "
            "FROM nodes"
        ).fetchone()
        return {"found": r[0], "probed": r[1], "dialable": r[2], "with_client": r[3], "with_status": r[4]}

    def client_distribution(self, top: int = 10) -> list[tuple[str, int]]:
        rows = self._db.execute(
            "SELECT client, COUNT(*) FROM nodes WHERE client IS NOT NULL GROUP BY client "
            "ORDER BY COUNT(*) DESC, client LIMIT ?",
            (top,),
        )
        return [(r[0], r[1]) for r in rows]

    def endpoints(self, node_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT ip, tcp, udp, first_seen, last_seen FROM endpoints WHERE id=? ORDER BY first_seen",
            (node_id,),
        )
        return [{"ip": r[0], "tcp": r[1], "udp": r[2], "first_seen": r[3], "last_seen": r[4]} for r in rows]

    def rows(self, where: str = "", params: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        cur = self._db.execute(f"SELECT * FROM nodes {where} ORDER BY first_seen, id", params)
        names = [d[0] for d in cur.description]
        for r in cur:
            yield dict(zip(names, r, strict=True))
