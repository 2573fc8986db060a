"""How pytest-xdist shares the suite between its workers (`make test` runs `pytest -n auto`).

Every test in tests/ stands alone: each worker has its own databases (a SQLite file under its own
temporary directory, a PostgreSQL database of its own), servers on ports of their own (tests/ports.py)
and its own temporary directories, and every database test empties the tables after itself. So those
tests go to whichever worker is free, one at a time.

The browser tests in accessibility_tests/ go to one worker as a single unit, in file order, because
they were written against one server that they share in turn: some states build on what earlier ones
left there ("whole notification" opens the first notification that earlier states drafted; the states
after "change roles" meet the reviewer demoted). Split over two workers, each with a server of its own,
a test could meet a different server from the one it was written against. Being the largest unit, it is
handed out first, and tests/ keeps the other worker busy meanwhile.

This is xdist's "loadscope" scheduler with that grouping, rather than xdist_group marks with
--dist loadgroup: on pytest 9.2 loadgroup silently ignores the marks (pytest-xdist issue 1386).
"""

from __future__ import annotations

BROWSER_TESTS = "accessibility_tests/"


def pytest_xdist_make_scheduler(config, log):
    # Any other --dist the person asked for (loadfile, worksteal, each…) is theirs to have.
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return BROWSER_TESTS if nodeid.startswith(BROWSER_TESTS) else nodeid

    return BrowserTestsTogether(config, log)
