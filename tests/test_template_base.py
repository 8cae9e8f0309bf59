"""The bundled templates are built from a clean base, not python-docx's default template.

python-docx's default document carries a theme in Calibri/Cambria with Japanese script fonts
(ＭＳ 明朝, ＭＳ ゴシック), a font table of the same, a math font (Cambria Math), some 150
built-in styles and a list numbering part in Symbol. The generators
(templates/make_templates.py, templates/make_annex.py) replace all of it: the theme names
Times New Roman and the Chinese fonts the styles use, the font table lists exactly the fonts
the document uses, with charset and fallback.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from docx import Document
from lxml import etree
from render_helpers import FULL_META, make_report, sample_problems

from toolkit.model import KIND_CENTRAL, KIND_STAGE
from toolkit.render import TEMPLATE_DIR, render_notice

ROOT = Path(__file__).resolve().parent.parent
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
TEMPLATES = ("阶段性进展", "集中整改进展", "台账附件")
# what python-docx's default template brings along and a Chinese notice must not carry
FOREIGN = ("Cambria", "Calibri", "ＭＳ", "MS Mincho", "MS Gothic", "明朝", "ゴシック", "맑은",
           "新細明體", 'script="Jpan"', 'script="Hang"', "ja-JP")
RFONT_ATTRS = ("ascii", "hAnsi", "eastAsia", "cs")


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _template(name: str) -> dict[str, bytes]:
    return _parts((TEMPLATE_DIR / f"{name}.docx").read_bytes())


def _named_fonts(parts: dict[str, bytes]) -> set[str]:
    """Fonts named by ``w:rFonts`` in the document, styles, headers and footers."""
    names = set()
    for name, data in parts.items():
        if re.fullmatch(r"word/(document|styles|footer\d+|header\d+|numbering)\.xml", name):
            for fonts in etree.fromstring(data).iter(f"{W}rFonts"):
                names.update(v for a in RFONT_ATTRS if (v := fonts.get(f"{W}{a}")))
    return names


def _theme_fonts(parts: dict[str, bytes]) -> dict[str, dict[str, str]]:
    scheme = etree.fromstring(parts["word/theme/theme1.xml"]).find(
        f"{A}themeElements/{A}fontScheme")
    out = {}
    for kind in ("majorFont", "minorFont"):
        el = scheme.find(f"{A}{kind}")
        fonts = {child.tag.split("}")[1]: child.get("typeface") for child in el
                 if child.tag != f"{A}font"}
        fonts.update({f"script:{f.get('script')}": f.get("typeface") for f in el.iter(f"{A}font")})
        out[kind] = fonts
    return out


def _font_table(parts: dict[str, bytes]) -> dict[str, etree._Element]:
    root = etree.fromstring(parts["word/fontTable.xml"])
    return {f.get(f"{W}name"): f for f in root.findall(f"{W}font")}


def test_python_docx_default_would_fail_these_checks():
    """The checks below are real: the default document python-docx starts from fails them."""
    buf = io.BytesIO()
    Document().save(buf)
    parts = _parts(buf.getvalue())
    assert any(word.encode() in data for data in parts.values() for word in FOREIGN)


@pytest.mark.parametrize("name", TEMPLATES)
def test_no_default_template_fonts_in_any_part(name):
    for part, data in _template(name).items():
        for word in FOREIGN:
            assert word.encode() not in data, f"{name}: {part} carries {word}"


@pytest.mark.parametrize("name", TEMPLATES)
def test_font_table_lists_exactly_the_fonts_in_use(name):
    parts = _template(name)
    theme = _theme_fonts(parts)
    used = _named_fonts(parts) | {f for kind in theme.values() for f in kind.values()}
    table = _font_table(parts)
    assert set(table) == used
    for font, el in table.items():
        charset = el.find(f"{W}charset").get(f"{W}val")
        if re.search(r"[\u4e00-\u9fff]", font):  # a Chinese font: GB2312 and a fallback
            assert charset == "86", font
            assert el.find(f"{W}altName").get(f"{W}val"), font
        else:
            assert charset == "00", font
    assert table["仿宋_GB2312"].find(f"{W}altName").get(f"{W}val") == "FangSong"


@pytest.mark.parametrize("name", TEMPLATES)
def test_theme_fonts_are_the_styles_fonts(name):
    parts = _template(name)
    theme = _theme_fonts(parts)
    # headings (major): 方正小标宋简体 like the title; body (minor): 仿宋_GB2312 like 正文
    for kind, east in (("majorFont", "方正小标宋简体"), ("minorFont", "仿宋_GB2312")):
        assert theme[kind]["latin"] == theme[kind]["cs"] == "Times New Roman"
        assert theme[kind]["ea"] == theme[kind]["script:Hans"] == east
        assert set(theme[kind]) == {"latin", "ea", "cs", "script:Hans"}
    assert "仿宋_GB2312" in _named_fonts(parts) and "方正小标宋简体" in _named_fonts(parts)
    settings = etree.fromstring(parts["word/settings.xml"])
    assert settings.find(f"{W}themeFontLang").get(f"{W}eastAsia") == "zh-CN"


@pytest.mark.parametrize("name", TEMPLATES)
def test_only_the_templates_own_styles_remain(name):
    styles = etree.fromstring(_template(name)["word/styles.xml"])
    ids = {s.get(f"{W}styleId") for s in styles.findall(f"{W}style")}
    own = {i for i in ids if i.startswith(("Gw", "Fj"))}
    assert own and ids - own <= {"Normal", "DefaultParagraphFont", "TableNormal", "NoList",
                                 "TableGrid", "Header", "HeaderChar", "Footer", "FooterChar"}
    assert "word/numbering.xml" not in _template(name)


@pytest.mark.parametrize("kind", [KIND_STAGE, KIND_CENTRAL])
def test_rendered_notice_keeps_the_clean_base(kind):
    meta = dict(FULL_META, cc="市委巡察办", printer="市文联办公室", print_date="2024-12-20")
    parts = _parts(render_notice(make_report(sample_problems(), meta), kind))
    for part, data in parts.items():
        for word in FOREIGN:
            assert word.encode() not in data, f"{part} carries {word}"
    assert _named_fonts(parts) <= set(_font_table(parts))


def test_committed_theme_and_font_table_match_the_generators(tmp_path):
    for script in ("make_templates.py", "make_annex.py"):
        subprocess.run([sys.executable, str(ROOT / "templates" / script), str(tmp_path)],
                       check=True, capture_output=True)
    for name in TEMPLATES:
        fresh = _parts((tmp_path / f"{name}.docx").read_bytes())
        committed = _template(name)
        for part in ("word/theme/theme1.xml", "word/fontTable.xml", "word/settings.xml",
                     "word/styles.xml", "[Content_Types].xml"):
            assert committed[part] == fresh[part], f"{name}: {part} is stale; rerun the script"
