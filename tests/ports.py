"""Ports for the servers the tests start on 127.0.0.1, chosen so that several test processes
(pytest-xdist's workers, or another checkout's suite) never hand the same port to two servers.

A port from bind(("127.0.0.1", 0)) comes from the kernel's range for outgoing connections and is free
again once the probe closes: until the server binds it, any outgoing connection on the machine (a browser,
the scanner's thousands of requests, another worker's HTTP client) may take it as its source port, and
the server then fails with "address already in use". Ports below that range are only ever taken by a
bind that names them, so one picked there at random stays free unless another picker draws it too.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 20000
# Its own generator: Hypothesis seeds the global one inside its tests, which would make workers agree.
_choose = random.SystemRandom()


def _outgoing_range_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port of 127.0.0.1 that nothing is bound to, below the range for outgoing connections."""
    highest = _outgoing_range_start() - 1
    for _ in range(100):
        port = _choose.randint(LOWEST, highest) if highest > LOWEST else 0
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port on 127.0.0.1")
