"""Start-up: what a command imports, checked in a fresh interpreter (behaviour, not wall clock).

`toolkit --version` and `--help` must not pay for docxtpl, python-docx, xlsxwriter, watchdog,
openpyxl, lxml, Jinja2 or pydantic (Typer's parameter coercion); a command imports the heavy
libraries it uses when it runs, and no other. bench/run.py times the start-up.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from ledger_factory import write_ledger

# Runs the console entry point with the given arguments, then reports every loaded module.
PROBE = """
import sys
sys.argv = ["toolkit"] + sys.argv[1:]
from toolkit.cli import main
try:
    main()
except SystemExit as exc:
    status = exc.code
sys.stdout.flush()
sys.stderr.write("\\nMODULES " + " ".join(sorted(sys.modules)) + "\\n")
sys.exit(status)
"""

NOTICE_LIBRARIES = ("docxtpl", "docx", "jinja2")  # what only rendering a notice needs
WORKBOOK_WRITERS = ("xlsxwriter",)
WATCHER = ("watchdog",)
LEDGER_READERS = ("openpyxl", "lxml", "defusedxml", "python_calamine")
COERCION = ("pydantic", "pydantic_core")  # Typer >= 0.29 builds TypeAdapters on first use


def _loaded(args: list[str], cwd: Path) -> tuple[int, str, set[str]]:
    """Exit status, standard output and the names of every module loaded (``a.b`` and ``a``)."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", timeout=120)
    marker = done.stderr.rsplit("MODULES ", 1)
    assert len(marker) == 2, done.stderr
    return done.returncode, done.stdout, set(marker[1].split())


def _unwanted(modules: set[str], *groups: tuple[str, ...]) -> list[str]:
    return sorted(name for group in groups for name in group if name in modules)


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["-h"], [], ["render", "--help"],
                                  ["build", "-h"], ["watch", "--help"], ["check"],
                                  ["no-such-command"]],
                         ids=lambda args: " ".join(args) or "no-arguments")
def test_version_help_and_usage_import_no_heavy_library(tmp_path, args):
    code, out, modules = _loaded(args, tmp_path)
    assert code in (0, 2)
    if args == ["--version"]:
        assert out.strip().startswith("toolkit ")
    heavy = _unwanted(modules, NOTICE_LIBRARIES, WORKBOOK_WRITERS, WATCHER, LEDGER_READERS, COERCION)
    assert not heavy, f"toolkit {' '.join(args)} imports {heavy}"


def test_version_does_not_load_the_pipeline(tmp_path):
    _code, _out, modules = _loaded(["--version"], tmp_path)
    stages = sorted(modules & {f"toolkit.{name}" for name in (
        "model", "read", "validate", "count", "context", "render", "build", "history", "watch")})
    assert not stages, f"toolkit --version imports {stages}"


def test_check_reads_but_writes_no_notice_workbook_or_watcher(tmp_path):
    ledger = write_ledger(tmp_path / "台账.xlsx")
    code, out, modules = _loaded(["check", str(ledger)], tmp_path)
    assert code == 0, out
    assert "可以生成通报" in out
    heavy = _unwanted(modules, NOTICE_LIBRARIES, WORKBOOK_WRITERS, WATCHER, COERCION)
    assert not heavy, f"toolkit check imports {heavy}"


def test_stats_imports_no_notice_library(tmp_path):
    ledger = write_ledger(tmp_path / "台账.xlsx")
    code, out, modules = _loaded(["stats", str(ledger), "--json"], tmp_path)
    assert code == 0, out
    heavy = _unwanted(modules, NOTICE_LIBRARIES, WATCHER, COERCION)
    assert not heavy, f"toolkit stats imports {heavy}"


def test_render_imports_what_it_uses(tmp_path):
    """The other side: a command that renders does load the notice libraries (the probe works)."""
    ledger = write_ledger(tmp_path / "台账.xlsx")
    code, out, modules = _loaded(["render", str(ledger), "-o", str(tmp_path / "通报.docx")], tmp_path)
    assert code == 0, out
    assert (tmp_path / "通报.docx").exists()
    assert {"docxtpl", "docx", "jinja2"} <= modules
    assert not _unwanted(modules, WATCHER, COERCION)


# ---------------------------------------------------------------- coercion without pydantic

def _typer_params():
    pytest.importorskip("typer._coercion")
    import typer.main

    from toolkit.cli import app

    group = typer.main.get_command(app)
    commands = [group, *group.commands.values()]
    return [(command, param) for command in commands
            for param in [*command.params, command.get_help_option(typer.Context(command))]
            if param is not None]


def test_plain_coercion_agrees_with_typer(tmp_path):
    """Every parameter PlainParam takes over coerces a value exactly as Typer's own adapter."""
    from typer._coercion import build_runtime_param

    from toolkit.i18n import PlainParam

    existing = write_ledger(tmp_path / "台账.xlsx")
    folder = tmp_path / "文件夹"
    folder.mkdir()
    samples = {bool: [True, False], str: ["阶段性进展", "", "2024-12-20", "-"],
               Path: [str(existing), str(folder), "不存在/台账.xlsx", "-", "out", existing]}
    taken = 0
    for command, param in _typer_params():
        runtime = param.get_runtime_param()
        if not isinstance(runtime, PlainParam):
            continue
        taken += 1
        typers = build_runtime_param(param.type_descriptor)
        ctx = typer.Context(command)
        annotation = param.type_descriptor.annotation
        values = samples.get(annotation) or [[str(existing), "b.xlsx"], (str(folder),), [existing]]
        for value in values:
            mine = runtime.coerce(value, param=param, ctx=ctx)
            theirs = typers.coerce(value, param=param, ctx=ctx)
            assert mine == theirs and type(mine) is type(theirs), (command.name, param.name, value)
            if isinstance(mine, list):
                assert [type(v) for v in mine] == [type(v) for v in theirs]
        assert runtime.coerce(None, param=param, ctx=ctx) == typers.coerce(None, param=param, ctx=ctx)
    assert taken >= 20  # every path, text and flag parameter of the toolkit's commands


def test_plain_coercion_leaves_numbers_to_typer():
    """`watch --interval` has a lower bound that Typer (pydantic) checks: not taken over."""
    from toolkit.i18n import PlainParam

    floats = [param for _command, param in _typer_params() if param.type_descriptor.annotation is float]
    assert floats
    assert not any(isinstance(param._runtime_param, PlainParam) for param in floats)
