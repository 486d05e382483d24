"""Export the crawl database to JSON or CSV, with filters."""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from typing import Any

from peerwire.crawl._store import Store

__all__ = ["ExportFilter", "export_csv", "export_json", "select"]

_CSV_COLUMNS = (
    "id",
    "stack",
    "ip",
    "tcp",
    "udp",
    "first_seen",
    "last_seen",
    "client",
    "caps",
    "network_id",
    "genesis",
    "fork_hash",
    "fork_next",
    "eth_version",
    "head",
    "snap",
    "dial_ok",
    "fails",
    "banned",
    "enr",
)


@dataclass(frozen=True, slots=True)
class ExportFilter:
    network: str | None = None  # eth network ID or TM2 network (chain ID)
    client: str | None = None  # substring of the client name, case-insensitive
    fork_id: str | None = None  # fork hash hex (``fc64ec04``), optional ``:next``
    snap: bool | None = None
    dialable: bool | None = None
    min_age: float | None = None  # seconds since first seen


def select(store: Store, f: ExportFilter, *, now: float | None = None) -> list[dict[str, Any]]:
    where: list[str] = []
    params: list[object] = []
    if f.network is not None:
        where.append("network_id = ?")
        params.append(f.network)
    if f.client is not None:
        where.append("LOWER(client) LIKE ?")
        params.append(f"%{f.client.lower()}%")
    if f.fork_id is not None:
        fh, _, nxt = f.fork_id.lower().removeprefix("0x").partition(":")
        where.append("fork_hash = ?")
        params.append(fh)
        if nxt:
            where.append("fork_next = ?")
            params.append(int(nxt))
    if f.snap is not None:
        where.append("COALESCE(snap, 0) = ?")
        params.append(int(f.snap))
    if f.dialable is not None:
        where.append("COALESCE(dial_ok, 0) = ?")
        params.append(int(f.dialable))
    if f.min_age is not None:
        where.append("first_seen <= ?")
        params.append((time.time() if now is None else now) - f.min_age)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    out = []
    for row in store.rows(clause, tuple(params)):
        row["caps"] = json.loads(row["caps"]) if row["caps"] else []
        row["info"] = json.loads(row["info"]) if row["info"] else None
        row["endpoints"] = store.endpoints(row["id"])
        out.append(row)
    return out


def export_json(store: Store, f: ExportFilter) -> str:
    """A JSON list, one object per node (id, endpoints, ENR, Hello, Status, dial result, ...)."""
    return json.dumps(select(store, f), indent=1)


def export_csv(store: Store, f: ExportFilter) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(_CSV_COLUMNS)
    for row in select(store, f):
        row["caps"] = " ".join(row["caps"])
        w.writerow(["" if row.get(c) is None else row[c] for c in _CSV_COLUMNS])
    return buf.getvalue()
