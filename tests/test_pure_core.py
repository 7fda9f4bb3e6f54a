"""DESIGN: the rules of money and time are plain Python — no Django, ORM, settings, clock or I/O."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PURE = sorted(
    [
        *ROOT.glob("pricing/engine/*.py"),
        ROOT / "contracts" / "terms.py",
        ROOT / "pricing" / "indexation.py",
        ROOT / "contracts" / "lifecycle.py",
        ROOT / "billing" / "schedule.py",
        ROOT / "billing" / "document.py",
        ROOT / "billing" / "hours.py",
        ROOT / "billing" / "bankfiles.py",
        ROOT / "billing" / "interest.py",
        ROOT / "receivables" / "rules.py",
    ]
)
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
    "sla",
    "privacy",
}
# Pure modules may use each other (e.g. billing.schedule uses contracts.terms), nothing else of the project.
PURE_IMPORTS_ALLOWED = {"contracts.terms", "pricing.engine"}
FORBIDDEN_CALLS = {"open", "today", "now", "utcnow"}


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_pure(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.startswith(("contracts", "pricing", "billing")) and not module.startswith(
                tuple(PURE_IMPORTS_ALLOWED)
            ):
                raise AssertionError(f"{path.name}:{node.lineno} imports the impure {module}")
            names = {module.split(".")[0]}
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            assert name not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {name}()"
            continue
        else:
            continue
        assert not names & FORBIDDEN_MODULES, f"{path.name}:{node.lineno} imports {names}"
