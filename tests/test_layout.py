"""The shape of the library, checked: stages import only lower stages, modules stay small, and
the library never imports Prefect (flows/ alone does). A change that breaks these makes the
next change harder; this test says where."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "thresher"
# Lower stages first; a module may import its own stage and any stage listed before it.
STAGES = [
    {"records", "text", "urls", "storage", "dates", "language", "patterns", "config", "progress", "values"},
    {"sources"},
    {"rules"},
    {"extract"},
    {"dedup"},
    {"stories"},
    {"provenance"},
    {"archive"},
    {"clean", "report"},
    {"run", "preflight"},
    {"cli", "cli_run", "audit", "search", "export", "verify", "storylist"},
]
MAX_LINES = 400


def _stage(name: str) -> int:
    return next(i for i, names in enumerate(STAGES) if name in names)


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Top-level thresher stages a module imports (at module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "thresher":
                found.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
            elif parts[0] in {"prefect", "flows"}:
                found.add(parts[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "thresher" and len(parts) > 1:
                    found.add(parts[1])
                elif parts[0] in {"prefect", "flows"}:
                    found.add(parts[0])
    return found - {"__version__"}


def _own_stage(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else path.stem


def test_every_module_belongs_to_a_stage():
    unknown = {_own_stage(p) for p in _modules()} - set().union(*STAGES) - {"__init__"}
    assert not unknown, f"add these to STAGES in data-flow order: {unknown}"


def test_no_stage_imports_a_higher_one():
    upward = []
    for path in _modules():
        own = _own_stage(path)
        if own == "__init__":
            continue
        for imported in _imports(path):
            if imported in {"prefect", "flows"} and own != "cli":
                upward.append(f"{path.relative_to(ROOT)} imports {imported}")
            elif imported not in {"prefect", "flows"} and _stage(imported) > _stage(own):
                upward.append(f"{path.relative_to(ROOT)} ({own}) imports {imported}")
    assert not upward, "\n".join(upward)


def test_modules_stay_small():
    big = {str(p.relative_to(ROOT)): n for p in _modules() + sorted((ROOT / "flows").glob("*.py"))
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"split these by what they do: {big}"
