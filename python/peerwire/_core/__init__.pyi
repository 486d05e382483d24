# Hand-written stubs for the native module peerwire._core (checked by stubtest).
from peerwire._core import discv4 as discv4
from peerwire._core import discv5 as discv5
from peerwire._core import ed25519 as ed25519
from peerwire._core import enr as enr
from peerwire._core import eth as eth
from peerwire._core import kad as kad
from peerwire._core import keccak as keccak
from peerwire._core import p2p_base as p2p_base
from peerwire._core import rlp as rlp
from peerwire._core import rlpx as rlpx
from peerwire._core import secp256k1 as secp256k1
from peerwire._core import tm2 as tm2
from peerwire._core import tm2_consensus as tm2_consensus

__version__: str
build_profile: str

def _panic_for_tests(message: str) -> None: ...
