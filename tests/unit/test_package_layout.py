"""The package's roles stay apart (docs/decisions.md "Package layout"): the profile API and the
scraping side never import each other, and the shared modules at the top import no role."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "common" / "creator_sync"
ROLES = ("api", "scraping", "stores", "adapters")


def imported_modules(source: Path) -> set[str]:
    """Every creator_sync module a file imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("creator_sync"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("creator_sync"))
    return found


def role_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ROLES else None


def imports_by_role() -> dict[str, set[str]]:
    roles: dict[str, set[str]] = {}
    for source in PACKAGE.rglob("*.py"):
        relative = source.relative_to(PACKAGE)
        role = relative.parts[0] if len(relative.parts) > 1 else "shared"
        targets = {role_of(module) for module in imported_modules(source)}
        roles.setdefault(role, set()).update(target for target in targets if target and target != role)
    return roles


def test_every_module_sits_in_a_role_or_is_shared() -> None:
    folders = {path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert folders == set(ROLES)


def test_the_api_and_scraping_never_import_each_other() -> None:
    roles = imports_by_role()
    assert "scraping" not in roles["api"]
    assert "api" not in roles["scraping"]


def test_shared_modules_import_no_role_and_adapters_no_api() -> None:
    roles = imports_by_role()
    assert roles["shared"] == set()
    assert roles["adapters"] <= {"scraping"}  # the Apify adapter reports in scraping's records
