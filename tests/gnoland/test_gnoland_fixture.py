"""The fixture itself: a real gnoland chain starts on loopback, makes blocks, stops, restarts."""

from __future__ import annotations

import pytest
from tests.gnoland._gnoland import Gnoland

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def test_gnoland_chain_makes_blocks_on_loopback_and_restarts(gnoland: Gnoland) -> None:
    status = gnoland.call("status")
    info = status["node_info"]
    assert info["network"] == "dev"
    assert info["net_address"].endswith(f"@127.0.0.1:{gnoland.p2p_port}")
    h = gnoland.wait_height(2)
    gnoland.kill()
    gnoland.start()
    assert gnoland.wait_height(h + 1) > h
