"""Helper processes of the benchmarks: ``python -m peerwire.bench._procs rlpx-sink N | tm2-listener``."""

from __future__ import annotations

import asyncio
import sys


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "rlpx-sink":
        from peerwire.bench._rlpx import sink_main

        sink_main(int(argv[1]))
        return 0
    if argv == ["tm2-listener"]:
        from peerwire.bench._tm2 import listener_main

        asyncio.run(listener_main())
        return 0
    print("usage: python -m peerwire.bench._procs rlpx-sink N | tm2-listener", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
