"""Import rules: HTTP and templates only in the web layer and app wiring; SQL drivers only in storage."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "scrywatch"
WEB_ONLY = ("starlette", "jinja2", "uvicorn")
STORAGE_ONLY = ("sqlite3", "aiosqlite")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules() -> list[tuple[str, set[str]]]:
    return [(str(p.relative_to(PACKAGE.parent)), _imports(p)) for p in PACKAGE.rglob("*.py")]


def _uses(names: set[str], roots: tuple[str, ...]) -> set[str]:
    return {n for n in names if n.split(".")[0] in roots}


def test_web_libraries_only_in_web_and_wiring() -> None:
    allowed = ("scrywatch/web/", "scrywatch/app.py", "scrywatch/cli.py")
    offenders = {m: _uses(names, WEB_ONLY) for m, names in _modules()
                 if not m.startswith(allowed) and _uses(names, WEB_ONLY)}
    assert not offenders, offenders


def test_sql_drivers_only_in_storage() -> None:
    offenders = {m: _uses(names, STORAGE_ONLY) for m, names in _modules()
                 if not m.startswith("scrywatch/storage/sqlite/") and _uses(names, STORAGE_ONLY)}
    assert not offenders, offenders


def test_services_do_not_know_http_or_sql() -> None:
    for module, names in _modules():
        if module.startswith("scrywatch/services/"):
            assert not {n for n in names if n.startswith("scrywatch.web")}, module
            assert not {n for n in names if n.startswith("scrywatch.storage.sqlite")}, module


def test_layering_test_sees_the_package() -> None:
    modules = dict(_modules())
    assert "scrywatch/web/codec.py" in modules and "starlette.requests" in modules["scrywatch/web/codec.py"]
    assert "sqlite3" in modules["scrywatch/storage/sqlite/db.py"]
