"""The node database: what discovery remembers across restarts (SQLite, WAL).

Mirrors go-ethereum's ``p2p/enode/nodedb.go``: node records, per-(ID, IP)
``lastping`` / ``lastpong`` / ``findfail``, the local record's seq, a seeds
query for table bootstrapping, and expiry of stale entries. Times are UNIX
seconds supplied by the caller (injected clock).

WAL journaling with ``synchronous=NORMAL`` keeps every committed transaction
across a process crash (SIGKILL); only a power loss can drop the last ones.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from peerwire.devp2p._enode import Node
from peerwire.devp2p._enr import ENR
from peerwire.errors import PeerwireError

__all__ = ["NODE_EXPIRATION", "NodeDB", "SEED_COUNT", "SEED_MAX_AGE", "CLEANUP_INTERVAL"]

NODE_EXPIRATION = 24 * 3600.0
"""Entries whose last pong is older than this are deleted (geth ``dbNodeExpiration``)."""
CLEANUP_INTERVAL = 3600.0
"""How often :meth:`NodeDB.maybe_expire` actually runs (geth ``dbCleanupCycle``)."""
SEED_COUNT = 30
SEED_MAX_AGE = 5 * 24 * 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nodes (
    id BLOB PRIMARY KEY,
    url TEXT NOT NULL,
    record BLOB
);
CREATE TABLE IF NOT EXISTS endpoints (
    id BLOB NOT NULL,
    ip TEXT NOT NULL,
    lastping REAL NOT NULL DEFAULT 0,
    lastpong REAL NOT NULL DEFAULT 0,
    findfail INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (id, ip)
);
CREATE INDEX IF NOT EXISTS endpoints_lastpong ON endpoints(lastpong);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB);
"""
_VERSION = 1


#: Page size of an in-memory database (sqlite's default, 4 KiB, stays for files).
MEMORY_PAGE_SIZE = 1024


class NodeDB:
    """A node database; ``path=None`` keeps it in memory."""

    def __init__(self, path: str | Path | None = None) -> None:
        target = ":memory:" if path is None else str(path)
        self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        if path is None:
            # An in-memory database holds every page in RAM: 1 KiB pages halve an empty one
            # (57 -> 29 KiB), which counts when a simulation runs thousands of nodes.
            self._db.execute(f"PRAGMA page_size={MEMORY_PAGE_SIZE}")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=2000")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('version', ?)", (_VERSION,))
        elif int(row[0]) != _VERSION:
            raise PeerwireError(f"node database {target} has version {row[0]}, want {_VERSION}")
        self._last_expiry = 0.0

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> NodeDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- nodes
    def update_node(self, node: Node) -> None:
        rec = node.record.to_bytes() if node.record is not None else None
        with self._db:
            self._db.execute(
                "INSERT INTO nodes(id, url, record) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET url=excluded.url, record=excluded.record",
                (node.id, node.enode_url(), rec),
            )

    def node(self, node_id: bytes) -> Node | None:
        row = self._db.execute("SELECT url, record FROM nodes WHERE id=?", (node_id,)).fetchone()
        return None if row is None else _load(row[0], row[1])

    def delete_node(self, node_id: bytes) -> None:
        with self._db:
            self._db.execute("DELETE FROM nodes WHERE id=?", (node_id,))
            self._db.execute("DELETE FROM endpoints WHERE id=?", (node_id,))

    # ------------------------------------------------------------ endpoints
    def _get(self, col: str, node_id: bytes, ip: str) -> float:
        row = self._db.execute(f"SELECT {col} FROM endpoints WHERE id=? AND ip=?", (node_id, ip)).fetchone()
        return 0.0 if row is None else float(row[0])

    def _set(self, col: str, node_id: bytes, ip: str, value: float) -> None:
        with self._db:
            self._db.execute(
                f"INSERT INTO endpoints(id, ip, {col}) VALUES (?, ?, ?) "
                f"ON CONFLICT(id, ip) DO UPDATE SET {col}=excluded.{col}",
                (node_id, ip, value),
            )

    def last_ping_received(self, node_id: bytes, ip: str) -> float:
        return self._get("lastping", node_id, ip)

    def update_last_ping_received(self, node_id: bytes, ip: str, when: float) -> None:
        self._set("lastping", node_id, ip, when)

    def last_pong_received(self, node_id: bytes, ip: str) -> float:
        return self._get("lastpong", node_id, ip)

    def update_last_pong_received(self, node_id: bytes, ip: str, when: float) -> None:
        self._set("lastpong", node_id, ip, when)

    def find_fails(self, node_id: bytes, ip: str) -> int:
        return int(self._get("findfail", node_id, ip))

    def update_find_fails(self, node_id: bytes, ip: str, fails: int) -> None:
        self._set("findfail", node_id, ip, fails)

    # ------------------------------------------------------------- local seq
    def local_seq(self, node_id: bytes) -> int | None:
        row = self._db.execute(
            "SELECT value FROM meta WHERE key=?", ("localseq:" + node_id.hex(),)
        ).fetchone()
        return None if row is None else int(row[0])

    def store_local_seq(self, node_id: bytes, seq: int) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                ("localseq:" + node_id.hex(), str(seq)),
            )

    # ----------------------------------------------------------------- seeds
    def query_seeds(self, now: float, n: int = SEED_COUNT, max_age: float = SEED_MAX_AGE) -> list[Node]:
        """Up to ``n`` random nodes whose last pong is at most ``max_age`` old."""
        rows = self._db.execute(
            "SELECT n.url, n.record FROM nodes n JOIN "
            "(SELECT id, MAX(lastpong) AS pong FROM endpoints GROUP BY id) e ON e.id = n.id "
            "WHERE e.pong >= ? ORDER BY RANDOM() LIMIT ?",
            (now - max_age, n),
        ).fetchall()
        return [_load(u, r) for u, r in rows]

    # ---------------------------------------------------------------- expiry
    def expire(self, now: float, max_age: float = NODE_EXPIRATION) -> int:
        """Delete endpoints whose last pong is older than ``max_age`` and nodes left without one."""
        with self._db:
            cur = self._db.execute("DELETE FROM endpoints WHERE lastpong < ?", (now - max_age,))
            self._db.execute("DELETE FROM nodes WHERE id NOT IN (SELECT id FROM endpoints)")
        return cur.rowcount

    def maybe_expire(self, now: float) -> int | None:
        """Run :meth:`expire` at most once per :data:`CLEANUP_INTERVAL`."""
        if now - self._last_expiry < CLEANUP_INTERVAL:
            return None
        self._last_expiry = now
        return self.expire(now)

    def integrity_ok(self) -> bool:
        return bool(self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok")


def _load(url: str, record: bytes | None) -> Node:
    if record is not None:
        return Node.from_record(ENR.decode(record))
    return Node.parse(url)
