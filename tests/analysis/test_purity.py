"""analysis/ is pure: it imports only the standard library, numpy, scipy and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import analysis

ALLOWED_THIRD_PARTY = {"numpy", "scipy"}
PACKAGE_DIR = Path(analysis.__file__).parent


def test_analysis_imports_nothing_else() -> None:
    offenders = []
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if (
                    top == "analysis"
                    or top in ALLOWED_THIRD_PARTY
                    or top in sys.stdlib_module_names
                ):
                    continue
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_library_code_does_not_print() -> None:
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
        ]
        assert calls == [], path.name
