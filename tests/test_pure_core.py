"""DESIGN: the rules of money and time are plain Python — no Django, ORM, settings, clock or I/O."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PURE = sorted([*ROOT.glob("pricing/engine/*.py"), ROOT / "contracts" / "terms.py", ROOT / "contracts" / "lifecycle.py"])
FORBIDDEN_MODULES = {
    "django",
    "rest_framework",
    "celery",
    "requests",
    "psycopg",
    "os",
    "socket",
    "pathlib",
    "tenants",
    "catalog",
    "billing",
    "sla",
    "privacy",
}
FORBIDDEN_CALLS = {"open", "today", "now", "utcnow"}


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_pure(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names = {(node.module or "").split(".")[0]}
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            assert name not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {name}()"
            continue
        else:
            continue
        assert not names & FORBIDDEN_MODULES, f"{path.name}:{node.lineno} imports {names}"
