"""``python tests/owned.py OWNER_PID ARGS...``: ``pixsearch ARGS...`` that ends with OWNER_PID.

A server a test starts must not outlive the test run. The fixtures stop their
servers, but a run that dies outright (an abort inside a native library, a kill -9)
cannot. A server is not tied to whoever started it (a shell that started one may
exit), so the tie is made here, for tests and benchmarks, with the lifeline pool
workers use: the server watches the test process and exits when it is gone.
"""

from __future__ import annotations

import runpy
import sys

from pixsearch.lifeline import die_with


def main() -> None:
    owner = int(sys.argv[1])
    sys.argv = ["pixsearch", *sys.argv[2:]]
    die_with(owner)
    runpy.run_module("pixsearch.cli.main", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
