"""Make the collection importable as ansible_collections.dtr.cache for plain pytest."""

import pathlib
import sys

_COLLECTIONS = pathlib.Path(__file__).resolve().parents[1] / ".collections"
if not (_COLLECTIONS / "ansible_collections" / "dtr" / "cache").exists():
    raise RuntimeError("run `make setup` first: it links this checkout into .collections")
sys.path.insert(0, str(_COLLECTIONS))
