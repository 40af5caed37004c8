"""Fail unless the built layer holds the creator_sync package with Python 3.13 bytecode for every
module, holds nothing the functions never run (console scripts, test suites, test extension modules),
and stays within its size budget (DESIGN §11: 55 MB unzipped).

Usage: python scripts/check_built_layer.py .aws-sam/build
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

CPYTHON_313_MAGIC = b"\xf3\r\r\n"  # importlib.util.MAGIC_NUMBER of CPython 3.13
MAX_UNZIPPED_BYTES = 55_000_000


def unwanted(layer: Path) -> list[str]:
    found = [f"{path} should not ship" for path in (layer / "bin",) if path.exists()]
    found += [f"{path} (a test suite) should not ship" for path in layer.rglob("tests") if path.is_dir()]
    found += [f"{path} (a test module) should not ship" for path in layer.rglob("_testcapi*")]
    size = sum(p.stat().st_size for p in layer.rglob("*") if p.is_file())
    if size > MAX_UNZIPPED_BYTES:
        found.append(
            f"the layer is {size / 1e6:.1f} MB unzipped; the budget is {MAX_UNZIPPED_BYTES / 1e6:.0f} MB"
        )
    return found


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
    problems = missing_bytecode(package) + missing_bytecode(layer / "pydantic") + unwanted(layer)
    for problem in problems:
        print(f"FAIL: {problem}")
    if sys.version_info[:2] == (3, 13):
        assert importlib.util.MAGIC_NUMBER == CPYTHON_313_MAGIC
    if problems:
        return 1
    modules = len(list(package.rglob("*.py")))
    size = sum(p.stat().st_size for p in layer.rglob("*") if p.is_file())
    print(
        f"OK: built layer holds creator_sync ({modules} modules) with CPython 3.13 bytecode,"
        f" nothing else it never runs, {size / 1e6:.1f} MB unzipped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build"))
