"""A network crawler for devp2p (discv4 + discv5, RLPx/Hello/eth Status) and TM2 (PEX, NodeInfo)."""

from __future__ import annotations

from peerwire.crawl._config import DEFAULT_PARALLEL, CrawlConfig, CrawlStats
from peerwire.crawl._crawler import Crawler
from peerwire.crawl._export import ExportFilter, export_csv, export_json, select
from peerwire.crawl._probe import ProbeResult, hello_payload, probe_node
from peerwire.crawl._store import BAN_AFTER_FAILURES, Store

__all__ = [
    "BAN_AFTER_FAILURES",
    "DEFAULT_PARALLEL",
    "CrawlConfig",
    "CrawlStats",
    "Crawler",
    "ExportFilter",
    "ProbeResult",
    "Store",
    "export_csv",
    "export_json",
    "hello_payload",
    "probe_node",
    "select",
]
