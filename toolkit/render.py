"""Render stage: a counted ``model.Report`` -> the notice as .docx bytes.

Plain functions, no printing. The notice is produced from a docxtpl template (an ordinary
.docx holding Jinja2 placeholders, see docs/templates.md) rendered in a sandboxed Jinja2
environment with ``StrictUndefined`` and autoescaping on.

Every text that comes from the ledger reaches the document exactly:

* autoescaping turns ``&``, ``<``, ``>`` and quotes into XML entities (docxtpl without
  autoescaping produces broken XML that its lenient parser then silently truncates);
* braces are written as character references, so text such as ``{{ 7*7 }}`` or ``{_{`` is
  neither evaluated nor touched by docxtpl's post-processing;
* characters XML 1.0 cannot hold (C0 controls other than tab and newline, U+FFFE, U+FFFF,
  lone surrogates) are removed, keeping the text around them;
* multi-line cells become lists of lines, one paragraph each, blank lines dropped.

Numbers come only from ``report.stats``; the statistics sentence is ``stats.summary`` as is.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from jinja2 import StrictUndefined
from jinja2 import TemplateError as JinjaTemplateError
from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from toolkit.errors import TemplateError
from toolkit.model import KIND_CENTRAL, KIND_STAGE, KINDS, Counts, Problem, Report, format_percent

from toolkit.normalize import format_cn_date as _format_cn_date
from toolkit.normalize import format_wan

__all__ = [
    "TEMPLATE_DIR",
    "template_for",
    "build_context",
    "render_notice",
    "clean_text",
    "split_lines",
    "cn_numeral",
]

def _template_dir() -> Path:
    # A checkout (or editable install) has templates/ beside the package; a wheel install
    # carries them as data files under <prefix>/share/toolkit/templates.
    beside = Path(__file__).resolve().parent.parent / "templates"
    installed = Path(sys.prefix) / "share" / "toolkit" / "templates"
    return beside if beside.is_dir() or not installed.is_dir() else installed


TEMPLATE_DIR = _template_dir()

_TITLE_TAIL = {
    KIND_STAGE: "关于巡察整改阶段性进展情况的通报",
    KIND_CENTRAL: "关于巡察集中整改进展情况的通报",
}
_OPENING_TAIL = {
    KIND_STAGE: "现将巡察整改阶段性进展情况予以公布。",
    KIND_CENTRAL: "现将反馈意见集中整改进展情况予以公布。",
}
# Sections of each kind, in order; a section without data is left out and the others are
# numbered on (一、二、三 …) without a gap.
_SECTIONS = {
    KIND_STAGE: ("organisation", "progress", "next_steps"),
    KIND_CENTRAL: ("organisation", "flagged", "completed", "long_term", "next_steps"),
}
_ALL_SECTIONS = ("organisation", "progress", "flagged", "completed", "long_term", "next_steps")

_TITLE_LINE_WIDTH = 20  # 2号 characters on a 156 mm line (20 x 22 pt = 440 pt)

# ---------------------------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------------------------

# Not allowed in XML 1.0: C0 controls except tab, LF, CR; U+FFFE/U+FFFF; surrogates (only lone
# ones can occur in a Python str).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\u2028\u2029]")


def clean_text(text: str) -> str:
    """``text`` without the characters an XML 1.0 document cannot hold."""
    return _XML_ILLEGAL.sub("", text)


def split_lines(text: str | None) -> list[str]:
    """The non-blank lines of a cell, each stripped of surrounding white space."""
    if not text:
        return []
    out = []
    for line in _LINE_BREAKS.split(text):
        line = clean_text(line).strip()
        if line:
            out.append(line)
    return out


_DIGITS = "零一二三四五六七八九"


def _below_ten_thousand(n: int) -> str:
    """1 <= n < 10,000 in full: 一千零一十, 一百零五 (a 零 marks each run of missing places)."""
    out, gap = "", False
    for place, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // place % 10
        if not digit:
            gap = bool(out)
            continue
        out += ("零" if gap else "") + _DIGITS[digit] + unit
        gap = False
    return out


def cn_numeral(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 105 -> 一百零五, 1010 -> 一千零一十,
    12000 -> 一万二千 (n >= 1; Arabic digits from a hundred million on)."""
    if n < 1:
        raise ValueError(n)
    if n >= 10**8:
        return str(n)
    high, low = divmod(n, 10_000)
    if not high:
        text = _below_ten_thousand(low)
    else:
        text = _below_ten_thousand(high) + "万"
        if low:
            text += ("零" if low < 1000 else "") + _below_ten_thousand(low)
    # 十二, not 一十二, when the number starts in the tens (十万 likewise).
    return text[1:] if text.startswith("一十") else text


def format_cn_date(d: date | None) -> str:
    """``2024年10月30日``: full year, no leading zeros; "" for None."""
    return "" if d is None else _format_cn_date(d)


def _decimal_text(d: Decimal | None) -> str:
    return "" if d is None else format_wan(d)


def _text(value: str | None) -> str:
    return clean_text(value).strip() if value else ""


def _visual_width(text: str) -> float:
    """Width in full-width characters (ASCII counts half)."""
    return sum(0.5 if ord(ch) < 0x80 else 1 for ch in text)


# ---------------------------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------------------------

_DI_FANGMIAN = re.compile(r"^第[一二三四五六七八九十百零〇0-9０-９]+方面")
_LEADING_ORDINAL = re.compile(r"^[一二三四五六七八九十]+[、．.]\s*")
_SUB_NUMBERED = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")


def _category_heading(name: str, ordinal: int) -> str:
    if _DI_FANGMIAN.match(name):
        return name
    bare = _LEADING_ORDINAL.sub("", name) or name
    return f"第{cn_numeral(ordinal)}方面问题：{bare}"


def _subcategory_heading(name: str, ordinal: int) -> str:
    if _SUB_NUMBERED.match(name):
        return name
    return f"（{cn_numeral(ordinal)}）{name}"


def _deadline_text(p: Problem) -> str:
    text = " ".join(split_lines(p.deadline_text))
    if text.endswith("。"):
        text = text[:-1]
    if not text and p.deadline is not None:
        text = format_cn_date(p.deadline)
    return text


def _status_text(p: Problem) -> str:
    if p.status:
        return p.status
    return _text(p.status_text).rstrip("。．.；;，,！!")


def _problem_dict(p: Problem, no: int) -> dict[str, Any]:
    status = _status_text(p)
    return {
        "no": no,
        "label": f"{no}．",
        "seq": p.seq,
        "row": p.row,
        "ledger_number": _text(p.number),
        "category": _text(p.category),
        "subcategory": _text(p.subcategory),
        "text": clean_text(p.problem or ""),
        "lines": split_lines(p.problem) or [""],
        "measures": clean_text(p.measures or ""),
        "measures_lines": split_lines(p.measures),
        "progress": clean_text(p.progress or ""),
        "progress_lines": split_lines(p.progress),
        "leader": _text(p.leader),
        "unit": _text(p.unit),
        "deadline": _deadline_text(p),
        "deadline_date": format_cn_date(p.deadline),
        "status": status,
        "status_label": f"{status}（长期坚持）" if p.long_term and status else status,
        "long_term": bool(p.long_term),
        "flagged": bool(p.flagged),
        "done_date": format_cn_date(p.done_date),
        "recovered": _decimal_text(p.recovered_wan),
        "evidence": clean_text(p.evidence or ""),
        "evidence_lines": split_lines(p.evidence),
        "remarks": clean_text(p.remarks or ""),
        "remarks_lines": split_lines(p.remarks),
    }


def _renumber(problems: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, p in enumerate(problems, 1):
        q = dict(p)
        q["no"] = i
        q["label"] = f"{i}．"
        out.append(q)
    return out


def _group(problems: tuple[Problem, ...]) -> tuple[list[dict], list[dict]]:
    """Problems grouped by category then subcategory (first appearance order), numbered."""
    order: list[str] = []
    by_cat: dict[str, list[Problem]] = {}
    for p in problems:
        cat = _text(p.category)
        if cat not in by_cat:
            by_cat[cat] = []
            order.append(cat)
        by_cat[cat].append(p)
    categories: list[dict] = []
    flat: list[dict] = []
    cat_no = 0
    for cat in order:
        heading = ""
        if cat:
            cat_no += 1
            heading = _category_heading(cat, cat_no)
        sub_order: list[str] = []
        by_sub: dict[str, list[Problem]] = {}
        for p in by_cat[cat]:
            sub = _text(p.subcategory)
            if sub not in by_sub:
                by_sub[sub] = []
                sub_order.append(sub)
            by_sub[sub].append(p)
        subs = []
        sub_no = 0
        cat_problems = []
        for sub in sub_order:
            sub_heading = ""
            if sub:
                sub_no += 1
                sub_heading = _subcategory_heading(sub, sub_no)
            items = []
            for p in by_sub[sub]:
                d = _problem_dict(p, len(flat) + 1)
                flat.append(d)
                items.append(d)
            cat_problems.extend(items)
            subs.append({"name": sub, "heading": sub_heading, "problems": items})
        categories.append(
            {
                "name": cat,
                "heading": heading,
                "ordinal": cn_numeral(cat_no) if cat else "",
                "subcategories": subs,
                "problems": cat_problems,
            }
        )
    return categories, flat


def _unit_party(unit: str) -> str:
    """市文联 -> 市文联党组; names that already end in 党组/党委 stay as they are."""
    if re.search(r"(党组|党委|党总支|党支部)$", unit):
        return unit
    return unit + "党组"


def _opening(meta, kind: str) -> str:
    basis = _text(meta.basis)
    group = _text(meta.group) or "巡察组"
    unit = _text(meta.unit)
    party = _unit_party(unit) if unit else "我单位党组"
    start, end = format_cn_date(meta.start_date), format_cn_date(meta.end_date)
    feedback = format_cn_date(meta.feedback_date)

    first = ""
    if basis:
        first += f"根据{basis}，"
    if start and end:
        first += f"{start}至{end}，"
    elif start or end:
        first += f"{start or end}，"
    first += f"{group}对{party}开展了巡察。"
    second = (f"{feedback}，" if feedback else "") + f"{group}向{party}反馈了巡察工作情况。"
    return first + second + "按照党务公开原则和巡察工作有关要求，" + _OPENING_TAIL[kind]


def _title_lines(issuer: str, kind: str) -> list[str]:
    tail = _TITLE_TAIL[kind]
    whole = issuer + tail
    if not issuer or _visual_width(whole) <= _TITLE_LINE_WIDTH:
        return [whole]
    return [issuer, tail]


def _contact(meta) -> str:
    parts = []
    for label, value in (("联系方式", meta.phone), ("邮政地址", meta.address), ("电子邮箱", meta.email)):
        value = _text(value)
        if value:
            parts.append(f"{label}：{value}")
    if not parts:
        return ""
    return (
        "欢迎广大干部群众对巡察整改落实情况进行监督。如有意见建议，请及时向我们反映。"
        + "；".join(parts)
        + "。"
    )


def _flagged_by(meta) -> str:
    """市委第一巡察组 -> 市委书记 (who points at people and matters); "" when unknown."""
    for source in (meta.group, meta.basis):
        m = re.search(r"([省市区县州盟旗]委)", _text(source))
        if m:
            return m.group(1) + "书记"
    return ""


def _counts_dict(c: Counts) -> dict[str, Any]:
    rate = c.completion_rate
    return {
        "total": c.total,
        "done": c.done,
        "in_progress": c.in_progress,
        "not_done": c.not_done,
        "long_term": c.long_term,
        "flagged": c.flagged,
        "overdue": c.overdue,
        "recovered": _decimal_text(c.recovered_wan),
        "completion_rate": format_percent(rate),
    }


def _check_kind(kind: str | None) -> str:
    if kind not in KINDS:
        raise TemplateError(
            None, f"未知的通报类型“{kind}”，应为“{KIND_STAGE}”或“{KIND_CENTRAL}”"
        )
    return kind


def build_context(report: Report, kind: str) -> dict[str, Any]:
    """The template context for ``report`` as a notice of ``kind``; see docs/templates.md.

    Every value is a str, an int, a bool, a list or a dict of those: never None.
    """
    kind = _check_kind(kind)
    meta = report.ledger.meta
    stats = report.stats
    issuer = _text(meta.issuer)
    categories, problems = _group(report.ledger.problems)
    flagged = _renumber(p for p in problems if p["flagged"])
    long_term = _renumber(p for p in problems if p["long_term"])
    organisation = [ln for item in meta.organisation for ln in split_lines(item)]
    long_term_measures = [ln for item in meta.long_term_measures for ln in split_lines(item)]
    next_steps = [ln for item in meta.next_steps for ln in split_lines(item)]
    title_lines = _title_lines(issuer, kind)

    present = {
        "organisation": bool(organisation),
        "progress": True,
        "flagged": bool(flagged),
        "completed": True,
        "long_term": bool(long_term or long_term_measures),
        "next_steps": bool(next_steps),
    }
    num = dict.fromkeys(_ALL_SECTIONS, "")
    i = 0
    for key in _SECTIONS[kind]:
        if present[key]:
            i += 1
            num[key] = f"{cn_numeral(i)}、"

    overall = _counts_dict(stats.overall)
    overall["as_of"] = format_cn_date(stats.as_of)
    overall["summary"] = clean_text(stats.summary or "")

    return {
        "kind": kind,
        "title": "\n".join(title_lines),
        "title_lines": title_lines,
        "issuer": issuer,
        "unit": _text(meta.unit),
        "basis": _text(meta.basis),
        "group": _text(meta.group),
        "start_date": format_cn_date(meta.start_date),
        "end_date": format_cn_date(meta.end_date),
        "feedback_date": format_cn_date(meta.feedback_date),
        "as_of": format_cn_date(stats.as_of),
        "issue_date": format_cn_date(meta.issue_date),
        "opening": _opening(meta, kind),
        "summary": overall["summary"],
        "stats": overall,
        "by_category": [dict(_counts_dict(c), name=clean_text(n)) for n, c in stats.by_category],
        "by_unit": [dict(_counts_dict(c), name=clean_text(n)) for n, c in stats.by_unit],
        "organisation": organisation,
        "long_term_measures": long_term_measures,
        "next_steps": next_steps,
        "phone": _text(meta.phone),
        "address": _text(meta.address),
        "email": _text(meta.email),
        "contact": _contact(meta),
        "num": num,
        "flagged_by": _flagged_by(meta),
        "categories": categories,
        "problems": problems,
        "flagged": flagged,
        "long_term": long_term,
    }


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def template_for(kind: str) -> Path:
    """The bundled template of a notice kind."""
    return TEMPLATE_DIR / f"{_check_kind(kind)}.docx"


def _finalize(value: Any) -> Any:
    """Runs on every ``{{ … }}`` output before autoescaping: make it safe XML text.

    Strings are cleaned of XML-illegal characters, escaped, and their braces turned into
    character references so docxtpl's own ``{_{``/``}_}`` post-processing cannot alter them.
    A newline inside a value becomes a line break (``w:br``), a tab a ``w:tab``.
    """
    if isinstance(value, Markup):
        return value
    if value is None:
        return Markup("")
    text = clean_text(str(value)).replace("\r\n", "\n").replace("\r", "\n")
    return Markup(str(escape(text)).replace("{", "&#123;").replace("}", "&#125;"))


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=False,
    )


_UNDEFINED_PATTERNS = (
    re.compile(r"'([^']+)' is undefined"),
    re.compile(r"has no attribute '([^']+)'"),
    re.compile(r"has no element '([^']+)'"),
    re.compile(r"has no element (\S+)"),
)


def _undefined_name(exc: Exception) -> str:
    message = str(exc)
    for pattern in _UNDEFINED_PATTERNS:
        m = pattern.search(message)
        if m:
            return m.group(1)
    return message


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_LISTING_CHARS = re.compile("[\t\a\n\f]")
_PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)
_BODY_START = re.compile(r'<w:body((?:\s+[^\s=/>]+="[^"]*")*)\s*>')
_ATTRIBUTE = re.compile(r'([^\s=/>]+)="([^"]*)"')
_template_class = None
_NOT_STREAMABLE = ("<w:tbl", "txbxContent", "<w:sdt", "docPr", "<w:customXml", "AlternateContent",
                   "<w:body/>")
_BODY_MARKER = "toolkit-body-streamed-here"
_STREAM_CHUNK = 1 << 18  # characters of rendered XML per piece: small, and few pieces


def _notice_template_class():
    """docxtpl's DocxTemplate with its two slowest steps done faster and the same output.

    On a 10,000-problem notice docxtpl spends most of its time (1) rewriting tabs and line
    breaks in every paragraph, although only a handful contain one, and (2) moving the
    rendered body, parsed as a document of its own, into the template's document: lxml then
    re-resolves the namespace of every node. Here (1) rewrites only the paragraphs that hold
    such a character, with docxtpl's own code, and (2) parses the rendered body inside a copy
    of the document element, with python-docx's element classes, and puts that document in
    place of the old one. Templates with tables keep docxtpl's path, which fixes their grids.
    """
    global _template_class
    if _template_class is not None:
        return _template_class
    from docx.oxml.ns import nsmap as docx_nsmap
    from docx.oxml.parser import element_class_lookup
    from docxtpl import DocxTemplate
    from lxml import etree

    docpr_path = etree.XPath("//wp:docPr", namespaces=docx_nsmap)

    class NoticeTemplate(DocxTemplate):
        def resolve_listing(self, xml):
            resolve = super().resolve_listing
            return _PARAGRAPH.sub(
                lambda m: resolve(m.group(0)) if _LISTING_CHARS.search(m.group(0)) else m.group(0),
                xml)

        def _whole_document(self, body_xml: str) -> str | None:
            """The document element serialised around ``body_xml``; None when unexpected."""
            document = self.docx.element
            part = self.docx.part
            if "<w:tbl" in body_xml or part.element is not document or document.nsmap.get("w") != _W_NS:
                return None
            shell = etree.tostring(document, encoding="unicode")
            start, end = shell.find("<w:body"), shell.rfind("</w:body>")
            head = _BODY_START.match(body_xml)
            if start < 0 or end < start or head is None:
                return None
            # The body was serialised on its own, so it repeats the document's namespace
            # declarations; inside the document they are redundant and lxml drops them.
            kept = [f'{name}="{value}"' for name, value in _ATTRIBUTE.findall(head.group(1))
                    if not (name.startswith("xmlns:")
                            and document.nsmap.get(name[6:]) == value)]
            body = "<w:body" + "".join(" " + a for a in kept) + ">" + body_xml[head.end():]
            return shell[:start] + body + shell[end + len("</w:body>"):]

        def fix_tables(self, xml):
            whole = self._whole_document(xml)
            if whole is None:
                return super().fix_tables(xml)
            parser = etree.XMLParser(recover=True)  # as docxtpl's fix_tables
            parser.set_element_class_lookup(element_class_lookup)
            return etree.fromstring(whole, parser=parser)

        def fix_docpr_ids(self, tree):
            # docxtpl's renumbering; python-docx's elements take no ``namespaces`` in xpath().
            for element in docpr_path(tree):
                self.docx_ids_index += 1
                element.attrib["id"] = str(self.docx_ids_index)

        def streamable(self) -> bool:
            """The body can be rendered in pieces: every ``</w:p>`` closes a body child.

            Tables, text boxes, content controls and drawings nest paragraphs or need docxtpl's
            whole-tree fixes; templates with them take the whole-document path.
            """
            source = self.get_xml()
            head = _BODY_START.match(source)
            return (head is not None and not any(word in source for word in _NOT_STREAMABLE)
                    and all(name.startswith("xmlns:") for name, _ in _ATTRIBUTE.findall(head.group(1)))
                    and self.docx.part.element is self.docx.element)

        def render_around_body(self, context, jinja_env) -> str:
            """docxtpl's render() for everything but the body; the body's Jinja source.

            Headers, footers, properties and footnotes are rendered as docxtpl does; the body
            is left empty with a marker for ``stream_body`` to fill in the saved package.
            """
            self.render_init()
            jinja_env.autoescape = True
            source = re.sub(r"<w:p([ >])", r"\n<w:p\1", self.patch_xml(self.get_xml()))
            self.current_rendering_part = self.docx._part
            for uri in (self.HEADER_URI, self.FOOTER_URI):
                for rel_key, xml in self.build_headers_footers_xml(context, uri, jinja_env):
                    self.map_headers_footers_xml(rel_key, xml)
            self.render_properties(context, jinja_env)
            self.render_footnotes(context, jinja_env)  # needs the template's sections: before
            body = self.docx.element.body
            for child in list(body):
                body.remove(child)
            body.text = _BODY_MARKER
            self.is_rendered = True
            return source

        def stream_body(self, source: str, context, jinja_env, write) -> None:
            """Render the body in pieces, each as docxtpl's post-processing and lxml's
            parse-and-serialise would leave it, passing UTF-8 bytes to ``write``.

            Pieces are cut right after a ``</w:p>`` (a body child here), where none of
            docxtpl's rewrites can straddle the cut, so the result equals the whole-body path.
            """
            nsmap = self.docx.element.nsmap
            declarations = "".join(f' xmlns:{k}="{v}"' if k else f' xmlns="{v}"'
                                   for k, v in nsmap.items())
            opening = f"<w:body{declarations}>"
            parser = etree.XMLParser(recover=True)
            pending: list[str] = []
            size = 0
            started = False

            def emit(text: str) -> None:
                nonlocal started
                text = re.sub(r"\n<w:p([ >])", r"<w:p\1", text)
                text = (text.replace("{_{", "{{").replace("}_}", "}}")
                        .replace("{_%", "{%").replace("%_}", "%}"))
                text = self.resolve_listing(text)
                if not started:
                    head = _BODY_START.match(text)
                    if head is None:
                        raise ValueError("rendered body does not start with <w:body>")
                    text, started = text[head.end():], True
                if text.endswith("</w:body>"):
                    text = text[: -len("</w:body>")]
                if not text:
                    return
                wrapped = etree.tostring(etree.fromstring(opening + text + "</w:body>", parser),
                                         encoding="unicode")
                inner = wrapped[wrapped.index(">") + 1: -len("</w:body>")] if not wrapped.endswith("/>") else ""
                write(inner.encode("utf-8"))

            for piece in jinja_env.from_string(source).generate(context):
                pending.append(piece)
                size += len(piece)
                if size >= _STREAM_CHUNK and "</w:p>" in piece:
                    text = "".join(pending)
                    cut = text.rindex("</w:p>") + len("</w:p>")
                    emit(text[:cut])
                    pending, size = [text[cut:]], len(text) - cut
            emit("".join(pending))

        def map_tree(self, tree):
            if tree.tag != f"{{{_W_NS}}}document":
                return super().map_tree(tree)
            document, part = self.docx, self.docx.part
            part._element = tree
            document._element = tree
            document._Document__body = None  # python-docx's cached body proxy
            if part.element is not tree or document.element is not tree:
                raise RuntimeError("python-docx no longer lets the document element be replaced")

    _template_class = NoticeTemplate
    return NoticeTemplate


def _load_template(path: Path):
    DocxTemplate = _notice_template_class()

    if not path.is_file():
        raise TemplateError(path, f"找不到通报模板文件（{path}）")
    try:
        with zipfile.ZipFile(path) as zf:
            if "word/document.xml" not in zf.namelist():
                raise TemplateError(path, "模板文件不是 Word 文档（.docx），缺少正文部分")
        tpl = DocxTemplate(path)
        tpl.init_docx()
    except TemplateError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, KeyError, lxml errors, …
        raise TemplateError(path, f"模板文件已损坏或不是 Word 文档（.docx）：{exc}") from exc
    return tpl


def render_notice(
    report: Report, kind: str | None = None, template: Path | None = None
) -> bytes:
    """The notice of ``report`` as .docx bytes.

    ``kind`` defaults to the ledger's 通报类型, else 阶段性进展; ``template`` overrides the
    bundled template of that kind. Raises ``TemplateError`` (before anything is written) when
    the kind is unknown, the template is missing or broken, or it uses a placeholder the
    context does not have.
    """
    kind = _check_kind((kind or _text(report.ledger.meta.kind) or KIND_STAGE).strip())
    path = Path(template) if template is not None else template_for(kind)
    context = build_context(report, kind)
    tpl = _load_template(path)
    env = _environment()

    try:
        unknown = tpl.get_undeclared_template_variables(env, context) - set(env.globals)
    except TemplateSyntaxError as exc:
        raise TemplateError(path, f"模板语法错误：{exc.message}") from exc
    except JinjaTemplateError as exc:
        raise TemplateError(path, f"模板无法解析：{exc}") from exc
    if unknown:
        names = "、".join(f"“{n}”" for n in sorted(unknown))
        raise TemplateError(path, f"模板中有未知的占位符{names}（可用的占位符见 docs/templates.md）")

    # A big notice is rendered in pieces straight into the package (bounded memory); a
    # template the pieces cannot handle takes docxtpl's whole-document path.
    streaming = tpl.streamable()
    with _rendering_errors(path):
        if streaming:
            body_source = tpl.render_around_body(context, env)
        else:
            tpl.render(context, jinja_env=env, autoescape=True)

    props = tpl.docx.core_properties
    props.title = " ".join(context["title_lines"])[:255]
    props.author = context["issuer"][:255]
    props.subject = kind

    buf = io.BytesIO()
    try:
        tpl.save(buf)
        data = buf.getvalue()
        from docx import Document

        Document(io.BytesIO(data))  # the package; with streaming, the body comes next
    except Exception as exc:
        raise TemplateError(path, f"用此模板生成的文档无法打开：{exc}") from exc
    if not streaming:
        return data
    with _rendering_errors(path):
        return _with_streamed_body(data, lambda write: tpl.stream_body(body_source, context, env, write))


class _rendering_errors:
    """Jinja's errors while rendering, as the clerk's TemplateError naming the template."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        path = self.path
        if isinstance(exc, UndefinedError):
            name = _undefined_name(exc)
            raise TemplateError(
                path, f"模板中有未知的占位符“{name}”（可用的占位符见 docs/templates.md）"
            ) from exc
        if isinstance(exc, TemplateSyntaxError):
            raise TemplateError(path, f"模板语法错误：{exc.message}") from exc
        if isinstance(exc, JinjaTemplateError):
            raise TemplateError(path, f"模板无法渲染：{exc}") from exc
        return False


def _with_streamed_body(package: bytes, stream) -> bytes:
    """``package`` with the body marker of word/document.xml replaced by what ``stream``
    writes; the other members are copied as they are, in their order."""
    marker = f"<w:body>{_BODY_MARKER}</w:body>".encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != "word/document.xml":
                target.writestr(info, data)
                continue
            head, tail = data.split(marker)
            with target.open(info, "w") as member:
                member.write(head + b"<w:body>")
                stream(member.write)
                member.write(b"</w:body>" + tail)
    return out.getvalue()
