"""Benchmarks for creator-sync (`make bench`); see README.md here."""

import sys
from pathlib import Path

# Outside pytest the domain package is found where Lambda finds it: in the layer folder.
_LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "common")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
