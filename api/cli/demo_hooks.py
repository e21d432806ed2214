"""Steps that ``itembank demo`` runs after building the banks (assembly, exports ...)."""

from __future__ import annotations

from typing import Any


def run_after_demo(settings: Any, engine: Any, summary: Any, *, seed: int) -> None:
    """Nothing yet: the assembly and export steps register here as they land."""
    return None
