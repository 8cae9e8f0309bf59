"""The layer order of the package, checked on every import statement (function-level ones too).

A module may import only modules of a lower layer: the pipeline's stages in their order
(read -> validate -> count -> history), then what turns their data into files, then what
strings the stages together, then the two front ends. A new module must be given a layer here,
so where it sits is decided once, on purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "toolkit"

# Lowest first. Modules of one layer are peers and do not import each other: the four stages
# share their tables through the layers below them, not through one another.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "__main__", "errors", "exit_status", "files"),
    ("model", "codes", "names"),
    ("normalize", "atomic", "safety", "xlsx_out", "jsonsafe", "duplicates", "docprops", "record_file",
     "side_job"),
    ("read_raw", "discover"),  # the reader's parts: the raw sheet first, then what fills it
    ("read_xlsx", "read_calamine", "read_meta", "read_build"),
    ("read", "validate", "count"),  # the stages, which share their tables through lower layers
    ("archive",),  # the notices and records of the fourth stage, history
    ("history",),
    ("context", "docx_template", "template_guard", "pdf", "official"),
    ("render", "stats_book", "findings_book", "blank"),
    ("annex", "changes_book"),  # built on render and on the statistics workbook's writer
    ("even_page",),  # renders again after the PDF: on render and pdf
    ("pipeline",),
    ("build", "rollup"),
    ("watch_debounce",),  # the watcher's parts: the queue first, then what uses it
    ("watch_observer", "watch_record", "watch_workers"),
    ("watch_process",),
    ("watch",),
    ("i18n", "console"),
    ("cli",),
)
LAYER_OF = {name: i for i, names in enumerate(LAYERS) for name in names}

# Third-party packages that belong to one front end only.
ONLY_IN = {"typer": ("cli", "i18n", "console"), "watchdog": ("watch",), "click": ("cli", "i18n", "console")}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".").split(".")[0]


def _imports(path: Path) -> set[str]:
    """The toolkit modules and top-level packages that ``path`` imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level and not node.module:  # from . import x, y
                found.update(f"toolkit.{a.name}" for a in node.names)
            elif node.level:
                found.add(f"toolkit.{node.module}")
            elif node.module:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_every_module_has_a_layer():
    unplaced = sorted({_name(p) for p in _modules()} - set(LAYER_OF))
    assert not unplaced, f"give these modules a layer in LAYERS: {unplaced}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_imports_run_down_the_layers(path):
    me = _name(path)
    if me not in LAYER_OF:
        pytest.skip("no layer yet (see test_every_module_has_a_layer)")
    upward = []
    for target in sorted(_imports(path)):
        if not target.startswith("toolkit.") or target == "toolkit":
            continue
        other = target.split(".")[1]
        if other != me and LAYER_OF.get(other, -1) >= LAYER_OF[me]:
            upward.append(other)
    assert not upward, f"{me} imports {upward}, which are not below it"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_front_end_packages_stay_in_their_front_end(path):
    me = _name(path)
    for target in _imports(path):
        top = target.split(".")[0]
        allowed = ONLY_IN.get(top)
        if allowed is not None:
            assert me.split("_")[0] in {a.split("_")[0] for a in allowed}, f"{me} imports {top}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_the_library_never_prints(path):
    if _name(path) in ("cli", "console", "__main__"):
        return
    calls = [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"]
    assert not calls, f"{path.name} calls print() on line {calls[0].lineno}"
