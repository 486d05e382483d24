# Hand-written stubs for the native module peerwire._core (checked by stubtest).
from peerwire._core import identity as identity
from peerwire._core import tm2 as tm2

__version__: str
build_profile: str

def _panic_for_tests(message: str) -> None: ...
