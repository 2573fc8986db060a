"""`python -m portal.cli serve ...`. Kept so older bench commands with --nodelay still run:
the portal itself now turns TCP_NODELAY on (portal/server.py), so this is the same as `portal serve`.

    python bench/serve_nodelay.py serve --port 8000 --workers 2 --no-worker
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if __name__ == "__main__":
    from portal.cli import main

    sys.exit(main())
