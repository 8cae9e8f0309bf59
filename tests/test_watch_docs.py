"""docs/watch.md: what an administrator copies must run as written."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "watch.md"


def blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def section(text: str, title: str) -> str:
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_windows_commands_run_as_written_in_powershell_and_cmd():
    windows = section(DOC.read_text(encoding="utf-8"), "在 Windows 上运行")
    found = blocks(windows)
    assert found
    for lang, body in found:
        assert lang in ("bat", "powershell", "cmd", ""), lang
        for line in body.splitlines():
            # cmd continues lines with ^, PowerShell with a backtick: neither works in the other.
            assert not line.rstrip().endswith(("^", "`")), line
    assert "schtasks /Create" in windows and "nssm.exe install" in windows
    assert "TOOLKIT_SOFFICE" in windows and "toolkit-svc" in windows


def test_linux_section_goes_step_by_step():
    linux = section(DOC.read_text(encoding="utf-8"), "作为 Linux 服务运行（systemd）")
    for step in ("useradd", "pip install", "chmod", "chown", "fc-cache", "fonts-noto-cjk",
                 "systemctl enable"):
        assert step in linux, step


def test_links_stay_inside_the_repository():
    text = DOC.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        assert not re.match(r"[a-z]+://", target), target
        resolved = (DOC.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT) and resolved.exists(), target
