"""The wheel carries the templates (issue 10.5): installed anywhere, even with
``pip install --target``, the toolkit finds them through importlib.resources.

Builds the real wheel from a copy of the project and installs it into a temporary target;
takes 20-40 s, and runs in CI with the rest of the suite (marker ``packaging``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from ledger_factory import write_ledger

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.packaging


def _run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for folder in ("toolkit", "templates"):
        shutil.copytree(ROOT / folder, source / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                  "--no-index", "-q", "-w", str(out), str(source)])
    assert built.returncode == 0, built.stderr[-2000:]
    return next(out.glob("toolkit-*.whl"))


def test_wheel_holds_every_bundled_template(wheel):
    bundled = sorted(p.name for p in (ROOT / "templates").glob("*.docx"))
    assert len(bundled) >= 2
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        for name in bundled:
            assert zf.read(f"toolkit/templates/{name}") == (ROOT / "templates" / name).read_bytes()
    assert not any(n.startswith(("share/", "toolkit-0.1.0.data/")) for n in names)


def test_target_install_renders_a_notice(wheel, tmp_path):
    target = tmp_path / "target"
    installed = _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                      "--target", str(target), str(wheel)])
    assert installed.returncode == 0, installed.stderr[-2000:]
    ledger = write_ledger(tmp_path / "台账.xlsx")
    env = dict(os.environ, PYTHONPATH=str(target))
    where = _run([sys.executable, "-c",
                  "import toolkit, toolkit.render as r; print(toolkit.__file__); print(r.TEMPLATE_DIR)"],
                 cwd=tmp_path, env=env)
    assert where.returncode == 0, where.stderr
    module, templates = where.stdout.splitlines()
    assert Path(module).is_relative_to(target) and Path(templates) == target / "toolkit" / "templates"
    notice = tmp_path / "通报.docx"
    result = _run([sys.executable, "-m", "toolkit.cli", "render", str(ledger), "-o", str(notice)],
                  cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(notice) as zf:
        assert "关于巡察集中整改进展情况的通报" in zf.read("word/document.xml").decode()
