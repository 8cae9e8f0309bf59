"""Write a toolkit tree's bytecode before timing it, as ``pip install`` does.

An editable install caches bytecode on first import, unless PYTHONDONTWRITEBYTECODE is set (as
it is in this project's sandbox): then every ``toolkit`` process compiles the modules changed
since the last cache from source again, some 100 ms a process that no clerk's installation
pays, and start-up and small-ledger figures measure the cache's state instead of the toolkit.
"""

from __future__ import annotations

import compileall
from pathlib import Path


def compile_package(package: Path) -> None:
    """Write the bytecode of every module under ``package`` (a no-op where it is current)."""
    if not compileall.compile_dir(str(package), quiet=1):
        raise RuntimeError(f"the modules under {package} did not compile")
