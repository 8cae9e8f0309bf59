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

import importlib.resources
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, UndefinedError
from markupsafe import Markup, escape

from toolkit.context import _check_kind, build_context, clean_text
from toolkit.docprops import set_notice_properties
from toolkit.docx_template import (
    NoticeTemplate,
    RenderedXmlError,
    TableGridNotFit,
    with_streamed_body,
)
from toolkit.errors import TemplateError, ToolkitError, UnreadableLedgerError
from toolkit.model import KIND_STAGE, Report
from toolkit.normalize import parse_kind
from toolkit.safety import check_archive_limits, check_xml_prologs
from toolkit.template_guard import (
    GuardedEnvironment,
    RenderLimits,
    active_content,
    describe_failure,
    limits_for,
    unbalanced_tags,
)

__all__ = [
    "TEMPLATE_DIR",
    "render_context",
    "render_limits",
    "render_notice",
    "resolve_kind",
    "template_for",
]


def _template_dir() -> Path:
    # An installed toolkit carries the templates inside the package (toolkit/templates,
    # mapped from the top-level templates/ folder by pyproject.toml), wherever it was
    # installed (--user, --target, a venv); a checkout run in place has only templates/.
    packaged = Path(str(importlib.resources.files("toolkit") / "templates"))
    if (packaged / f"{KIND_STAGE}.docx").is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


TEMPLATE_DIR = _template_dir()


def template_for(kind: str) -> Path:
    """The bundled template of a notice kind."""
    return TEMPLATE_DIR / f"{_check_kind(kind)}.docx"


def _finalize(value: Any) -> Any:
    """Runs on every ``{{ … }}`` output before autoescaping: make it safe XML text.

    Strings are cleaned of XML-illegal characters, escaped, and their braces turned into
    character references so docxtpl's own ``{_{``/``}_}`` post-processing cannot alter them.
    A newline inside a value becomes a line break (``w:br``), a tab a ``w:tab``. Markup (a
    macro's output, a constant Jinja escaped at compile time) keeps its markup and braces
    but is cleaned too: ``{{ '\\ud800' }}`` must not reach the XML.
    """
    if isinstance(value, Markup):
        cleaned = clean_text(value)
        return value if len(cleaned) == len(value) else Markup(cleaned)
    if value is None:
        return Markup("")
    text = clean_text(str(value)).replace("\r\n", "\n").replace("\r", "\n")
    return Markup(str(escape(text)).replace("{", "&#123;").replace("}", "&#125;"))


def _environment(limits: RenderLimits) -> GuardedEnvironment:
    env = GuardedEnvironment(
        limits,
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    env.finalize = _finalize
    return env


def render_limits(report: Report) -> RenderLimits:
    """The rendering limits (``template_guard``) that fit this report's size."""
    problems = report.ledger.problems
    text = sum(len(p.problem or "") + len(p.measures or "") + len(p.progress or "")
               + len(p.evidence or "") + len(p.remarks or "") for p in problems)
    return limits_for(len(problems), text)


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


# A real template is a few hundred kilobytes; its body is parsed and compiled whole.
_TEMPLATE_MAX_TOTAL = 64 << 20  # a notice template with a few images is a few MB
_TEMPLATE_MAX_XML_PART = 16 << 20
_RENDERED_PARTS = re.compile(r"/word/(document|header\d*|footer\d*|footnotes)\.xml$")


def _check_container(path: Path) -> None:
    """The zip checks every ledger gets (``safety``), with a template's own size limit."""
    try:
        with zipfile.ZipFile(path) as zf:
            check_archive_limits(path, zf, _TEMPLATE_MAX_TOTAL)
            check_xml_prologs(path, zf)
            infos = {info.filename: info for info in zf.infolist()}
    except UnreadableLedgerError as exc:
        raise TemplateError(path, f"模板文件不能使用：{exc.reason}") from exc
    if "word/document.xml" not in infos:
        raise TemplateError(path, "模板文件不是 Word 文档（.docx），缺少正文部分")
    for name, info in infos.items():
        if name.endswith(".xml") and info.file_size > _TEMPLATE_MAX_XML_PART:
            raise TemplateError(
                path, f"模板中的 {name} 过大（{info.file_size / 2**20:,.0f} MB），不像是通报模板，拒绝使用")


def _check_tags(path: Path, tpl: NoticeTemplate) -> None:
    """Every ``{{ … }}``/``{% … %}`` of the body, headers, footers and footnotes is whole
    inside one paragraph."""
    for part in tpl.docx.part.package.iter_parts():
        element = getattr(part, "_element", None)
        if element is None or not _RENDERED_PARTS.search(str(part.partname)):
            continue
        problem = unbalanced_tags(element)
        if problem:
            where = "" if str(part.partname) == "/word/document.xml" else f"{part.partname[1:]} "
            raise TemplateError(path, f"模板{where}{problem}")


def _load_template(path: Path) -> NoticeTemplate:
    if not path.is_file():
        if path.exists():  # a folder, a FIFO, a device: never opened (a FIFO would block)
            raise TemplateError(path, "模板不是普通文件（可能是文件夹或设备），请指定 .docx 文件")
        raise TemplateError(path, f"找不到通报模板文件（{path}）")
    try:
        _check_container(path)
        tpl = NoticeTemplate(path)
        tpl.init_docx()
    except TemplateError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, KeyError, lxml errors, …
        raise TemplateError(path, f"模板文件已损坏或不是 Word 文档（.docx）：{exc}") from exc
    _check_tags(path, tpl)
    _check_active_content(path, tpl)
    return tpl


def _check_active_content(path: Path, tpl: NoticeTemplate) -> None:
    """No remote resources, embedded objects, macros or DDE-like fields: the notice would
    carry them to every clerk who opens it."""
    parts = list(tpl.docx.part.package.iter_parts())
    rels = [(rel.reltype, rel.target_ref, rel.is_external)
            for part in parts for rel in part.rels.values()]
    elements = [part._element for part in parts
                if getattr(part, "_element", None) is not None
                and _RENDERED_PARTS.search(str(part.partname))]
    problem = active_content(rels, elements)
    if problem:
        raise TemplateError(path, problem)


def render_notice(
    report: Report, kind: str | None = None, template: Path | None = None, *,
    record_next_page: bool = False,
) -> bytes:
    """The notice of ``report`` as .docx bytes.

    ``kind`` defaults to the ledger's 通报类型, else 阶段性进展 (the ledger annex is
    ``annex.render_annex``); ``template`` overrides the bundled template of that kind.
    Raises ``TemplateError`` (before anything is written) when the kind is unknown, the
    template is missing, broken or hostile, uses a placeholder the context does not have,
    fails while rendering, exceeds the limits of ``template_guard``, or renders to a body
    that is not well-formed XML. ``record_next_page`` moves the 版记 to the foot of the next
    even page, that page unnumbered (templates that support it, see toolkit/even_page.py).
    """
    kind = resolve_kind(report, kind)
    path = Path(template) if template is not None else template_for(kind)
    context = build_context(report, kind)
    context["record_next_page"] = record_next_page and bool(context["record"])
    return render_context(context, path, render_limits(report), subject=kind)


def resolve_kind(report: Report, kind: str | None = None) -> str:
    """The notice kind: ``kind`` when given, else the ledger's 通报类型 read the way ``check``
    reads it (``normalize.parse_kind``: near forms accepted), else 阶段性进展."""
    if kind:
        return _check_kind(kind.strip())
    meta = report.ledger.meta
    reading = parse_kind(meta.kind)
    if reading is None:
        return KIND_STAGE
    if reading.kind is None:
        cell = meta.cells.get("kind", "")
        raise ToolkitError(report.ledger.path,
                           f"通报类型“{meta.kind}”无法识别，请填 阶段性进展 或 集中整改进展",
                           cell=f"{meta.sheet}!{cell}" if cell else meta.sheet or None)
    return reading.kind


def render_context(context: dict[str, Any], path: Path, limits: RenderLimits, *,
                   subject: str, stream: bool = True) -> bytes:
    """The template at ``path`` rendered with ``context`` (see ``render_notice``); with
    ``stream`` false, always on docxtpl's whole-document path."""
    tpl = _load_template(path)
    env = _environment(limits)

    def body_source() -> str:
        return re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(tpl.get_xml()))

    with _rendering_errors(path, body_source):
        unknown = tpl.get_undeclared_template_variables(env, context) - set(env.globals)
    if unknown:
        names = "、".join(f"“{n}”" for n in sorted(unknown))
        raise TemplateError(path, f"模板中有未知的占位符{names}（可用的占位符见 docs/templates.md）")

    # A big notice is rendered in pieces straight into the package (bounded memory); a
    # template the pieces cannot handle takes docxtpl's whole-document path.
    streaming = stream and tpl.streamable()
    source = body_source()
    with _rendering_errors(path, lambda: source):
        if streaming:
            source = tpl.render_around_body(context, env)
        else:
            tpl.render(context, jinja_env=env, autoescape=True)

    set_notice_properties(tpl.docx, context, subject)

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
    try:
        with _rendering_errors(path, lambda: source):
            return with_streamed_body(data, lambda write: tpl.stream_body(source, context, env,
                                                                          write))
    except TableGridNotFit:  # a table docxtpl's fix_tables must see whole
        return render_context(context, path, limits, subject=subject, stream=False)


class _rendering_errors:
    """Errors while compiling or rendering, as the clerk's TemplateError naming the template
    and, where the traceback shows it, the failing tag of ``source()``."""

    def __init__(self, path: Path, source: Callable[[], str]):
        self.path = path
        self.source = source

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        path = self.path
        if exc is None or isinstance(exc, (TemplateError, TableGridNotFit)):
            return False
        if isinstance(exc, UndefinedError):
            name = _undefined_name(exc)
            raise TemplateError(
                path, f"模板中有未知的占位符“{name}”（可用的占位符见 docs/templates.md）"
            ) from exc
        if isinstance(exc, RenderedXmlError):
            raise TemplateError(path, f"用此模板生成的正文不是有效的 Word 文档，已停止（{exc}）；"
                                      "请检查模板中的标记是否跨段落配对") from exc
        try:
            source = self.source()
        except Exception:  # the message is still useful without the tag
            source = None
        message = describe_failure(exc, source)
        if message is None:
            return False
        raise TemplateError(path, message) from exc
