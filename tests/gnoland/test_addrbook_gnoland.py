"""gno's ``addrbook.json`` both ways with a real gnoland (v1.7.1 ``discovery/store.go``).

peerwire's :class:`peerwire.tm2.discovery.AddressBook` writes the book gnoland starts from
(gnoland dials the address in it: our observer node), and after gnoland flushes the book on
shutdown, peerwire loads gnoland's file back, with gnoland's ``last_connected`` mark.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from tests.gnoland._gnoland import Gnoland, free_port

from peerwire import tm2
from peerwire.tm2 import NetAddress, observe, profiles
from peerwire.tm2.discovery import AddressBook

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def test_gnoland_dials_from_our_address_book_and_we_load_its_book_back(
    gnoland_bin: Path, tmp_path: Path
) -> None:
    asyncio.run(_round_trip(gnoland_bin, tmp_path))


async def _round_trip(gnoland_bin: Path, tmp_path: Path) -> None:
    port = free_port()
    key = tm2.NodeKey.generate()
    addr = tm2.NetAddress(str(key.id), "127.0.0.1", port)
    tr = tm2.MultiplexTransport(profiles.gnoland("dev", pex=False).node_info(addr, "pw-book"), key)
    await tr.listen(addr)
    sw = tm2.MultiplexSwitch(tr, tm2.with_reactor("observer", observe.Observer()))

    wd = tmp_path / "gnoland"
    wd.mkdir()
    g = Gnoland(gnoland_bin, wd)
    book_path = g.data_dir / "config" / "addrbook.json"  # gnoland's default addr_book_file
    ours = AddressBook(book_path)
    assert ours.add(NetAddress.parse(str(addr))) == 1
    assert ours.save(force=True)
    assert json.loads(book_path.read_text())["peers"][0]["addr"] == str(addr)

    async with sw:
        g.start()
        try:
            await asyncio.to_thread(g.wait_height, 1)
            for _ in range(100):  # gnoland dials the peers of its book at start
                if sw.peers().list():
                    break
                await asyncio.sleep(0.2)
            peers = sw.peers().list()
            assert peers and not peers[0].is_outbound, g.tail_log()
        finally:
            g.stop()  # SIGTERM: gnoland flushes its book

    raw = json.loads(book_path.read_text())
    entry = next(p for p in raw["peers"] if p["addr"] == str(addr))
    assert entry["last_seen"] > 0 and entry.get("last_connected", 0) > 0, raw
    back = AddressBook(book_path)
    assert back.load() >= 1
    assert str(addr) in back
