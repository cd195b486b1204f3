"""How the command line prints: aligned tables, and its own name as the user can type it."""

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

COLUMN_GAP = "  "


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lines of left-aligned columns under a header; the last column is not padded."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    return [
        COLUMN_GAP.join(
            [str(cell).ljust(width) for cell, width in zip(line[:-1], widths, strict=False)]
            + [str(line[-1])]
        ).rstrip()
        for line in [headers, *rows]
    ]


def command_name() -> str:
    """`polar-customers` when that finds this installation on the PATH, else the path of
    this environment's script (`./scripts/serve` does not put it on the PATH)."""
    script = Path(sys.executable).parent / "polar-customers"
    found = shutil.which("polar-customers")
    if found is not None and Path(found).resolve() == script.resolve():
        return "polar-customers"
    relative = os.path.relpath(script)
    return str(script) if relative.startswith("..") else relative
