"""The ceiling: a bare Starlette app with one plaintext route, served by the same uvicorn.

    python bench/bare_app.py --port 8001 --workers 2 [--nodelay]
    (or: python -m uvicorn bench.bare_app:app --workers 2 --port 8001)

bench/load.py starts it itself and compares the portal's pages with it. --nodelay applies the same
listener fix as bench/serve_nodelay.py.
"""

import argparse
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def plaintext(request):
    return PlainTextResponse("Hello, world!")


app = Starlette(routes=[Route("/plaintext", plaintext)])


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--nodelay", action="store_true")
    args = parser.parse_args()
    if args.nodelay:
        import bench.serve_nodelay  # noqa: F401  (patches uvicorn's Config.bind_socket)
    import uvicorn

    uvicorn.run(
        "bench.bare_app:app",
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        server_header=False,
    )
