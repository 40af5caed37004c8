"""Fail unless the built layer holds the creator_sync package with Python 3.13 bytecode for every module.

Usage: python scripts/check_built_layer.py .aws-sam/build
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

CPYTHON_313_MAGIC = b"\xf3\r\r\n"  # importlib.util.MAGIC_NUMBER of CPython 3.13


def missing_bytecode(package: Path) -> list[str]:
    problems = []
    for source in sorted(package.rglob("*.py")):
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        if not pyc.is_file():
            problems.append(f"no bytecode for {source}")
        elif pyc.read_bytes()[:4] != CPYTHON_313_MAGIC:
            problems.append(f"{pyc} is not CPython 3.13 bytecode")
    return problems


def main(build_dir: str) -> int:
    layer = Path(build_dir) / "CommonLayer" / "python"
    package = layer / "creator_sync"
    if not (package / "__init__.py").is_file():
        print(f"FAIL: {package} is missing from the built layer")
        return 1
    problems = missing_bytecode(package) + missing_bytecode(layer / "pydantic")
    for problem in problems:
        print(f"FAIL: {problem}")
    if sys.version_info[:2] == (3, 13):
        assert importlib.util.MAGIC_NUMBER == CPYTHON_313_MAGIC
    if problems:
        return 1
    modules = len(list(package.rglob("*.py")))
    print(f"OK: built layer holds creator_sync ({modules} modules) with CPython 3.13 bytecode")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build"))
