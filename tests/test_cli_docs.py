"""Everything a clerk reads lives in the repository: no README/docs link leaves it."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|^\s*\[[^\]]+\]:\s*(\S+)", re.M)


def links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [m.group(1) or m.group(2) for m in LINK.finditer(text)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_stay_inside_the_repository_and_exist(doc):
    for target in links(doc):
        assert not re.match(r"^(file:|/|[A-Za-z]:\\)", target), (doc.name, target)
        if re.match(r"^(https?|mailto):", target) or target.startswith("#"):
            continue
        resolved = (doc.parent / target.split("#", 1)[0]).resolve()
        assert resolved.is_relative_to(ROOT), (doc.name, target)
        assert resolved.exists(), (doc.name, target)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_path_outside_the_clone_is_mentioned(doc):
    text = doc.read_text(encoding="utf-8")
    assert "../shared" not in text and "shared/spec" not in text and "/work/" not in text


def test_readme_links_the_clerks_guides():
    targets = links(ROOT / "README.md")
    assert {"docs/ledger.md", "docs/notice.md", "docs/templates.md", "docs/watch.md"} <= set(targets)


def test_link_finder_sees_escaping_links(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("见 [规范](../shared/spec/ledger.md) 和 [图](img.png \"t\")\n[ref]: ../a.md\n",
                   encoding="utf-8")
    assert links(doc) == ["../shared/spec/ledger.md", "img.png", "../a.md"]


def test_ledger_guide_covers_what_a_clerk_needs():
    text = (ROOT / "docs" / "ledger.md").read_text(encoding="utf-8")
    for word in ("具体问题", "整改状态", "问题描述", "已完成", "正在整改", "未完成", "长期坚持",
                 "整改时限", "2024年9月底前", "通报信息", "发文机关", "统计截止日期", "逾期"):
        assert word in text, word
    assert "| 序号 | 问题类别 | 具体问题 |" in text  # the table of a good ledger
    assert "以前生成的通报所在的文件夹" in text  # what check -o is
