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
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined
from jinja2 import TemplateError as JinjaTemplateError
from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from toolkit.context import _check_kind, _text, build_context, clean_text
from toolkit.docprops import set_notice_properties
from toolkit.docx_template import NoticeTemplate, with_streamed_body
from toolkit.errors import TemplateError
from toolkit.model import KIND_STAGE, Report

__all__ = ["TEMPLATE_DIR", "template_for", "render_notice"]


def _template_dir() -> Path:
    # A checkout (or editable install) has templates/ beside the package; a wheel install
    # carries them as data files under <prefix>/share/toolkit/templates.
    beside = Path(__file__).resolve().parent.parent / "templates"
    installed = Path(sys.prefix) / "share" / "toolkit" / "templates"
    return beside if beside.is_dir() or not installed.is_dir() else installed


TEMPLATE_DIR = _template_dir()


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


def _load_template(path: Path) -> NoticeTemplate:
    if not path.is_file():
        raise TemplateError(path, f"找不到通报模板文件（{path}）")
    try:
        with zipfile.ZipFile(path) as zf:
            if "word/document.xml" not in zf.namelist():
                raise TemplateError(path, "模板文件不是 Word 文档（.docx），缺少正文部分")
        tpl = NoticeTemplate(path)
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

    set_notice_properties(tpl.docx, context, kind)

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
        return with_streamed_body(data, lambda write: tpl.stream_body(body_source, context, env, write))


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
