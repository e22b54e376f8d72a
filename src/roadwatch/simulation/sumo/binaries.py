"""Finding the SUMO programs: the `eclipse-sumo` wheel ships them (with SUMO_HOME) inside
the `sumo` Python package; a system installation is found through SUMO_HOME or PATH."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


class SumoMissing(RuntimeError):
    """SUMO is not installed; the message says how to install it."""


def sumo_home() -> Path | None:
    try:
        import sumo  # type: ignore[import-untyped]
    except ImportError:
        home = os.environ.get("SUMO_HOME")
        return Path(home) if home else None
    # importing the wheel's package sets SUMO_HOME (and PROJ_LIB) when they are unset
    return Path(sumo.SUMO_HOME)


def binary(name: str) -> str:
    """The path of a SUMO program (`sumo`, `netconvert`, `netgenerate`)."""
    home = sumo_home()
    if home is not None:
        candidate = home / "bin" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise SumoMissing(
        f"SUMO's {name} was not found: install the extra (`pip install 'roadwatch[sumo]'`) "
        "or SUMO itself with SUMO_HOME set"
    )
