"""``python local/stack ARGS`` (what ``make`` runs), or ``python -m stack ARGS`` with ``local/`` on the path."""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:
    # Run as a directory: Python put local/stack itself first on sys.path. Import the package
    # and its neighbours (stripe_front, firestore_emulator...) from local/ instead, so that no
    # module of the package is also importable under its bare name.
    _package_dir = Path(__file__).resolve().parent
    sys.path[:] = [str(_package_dir.parent), *(p for p in sys.path if Path(p).resolve() != _package_dir)]

from stack.cli import main

sys.exit(main())
