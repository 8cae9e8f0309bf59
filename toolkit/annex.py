"""The ledger annex (台账附件): the 整改台账 itself as a landscape table, attached to a notice.

Same ledger, same counted report, same rendering (``render.render_context``: the guarded
sandbox, strict XML); only the template (templates/台账附件.docx, made by
templates/make_annex.py) and a few context keys differ. The keys are documented in
docs/templates.md ("台账附件").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.context import build_context
from toolkit.errors import ToolkitError
from toolkit.model import KIND_STAGE, Report

__all__ = [
    "ANNEX_KIND",
    "AnnexResult",
    "annex_context",
    "annex_path_for",
    "render_annex",
    "write_annex",
]

ANNEX_KIND = "台账附件"
ANNEX_SUFFIX = "-附件"


def annex_path_for(notice: Path) -> Path:
    """``<notice stem>-附件.docx`` beside the notice."""
    notice = Path(notice)
    return notice.with_name(f"{notice.stem}{ANNEX_SUFFIX}.docx")


def annex_context(report: Report) -> dict[str, Any]:
    """The notice context (every key of docs/templates.md) plus the annex's own keys:
    ``annex_mark`` (附件), ``annex_title`` and, on every problem, ``responsible``."""
    context = build_context(report, KIND_STAGE)  # each problem has ``responsible`` already
    owner = context["unit"] or context["issuer"]
    context["annex_mark"] = "附件"
    context["annex_title"] = f"{owner}巡察整改台账" if owner else "巡察整改台账"
    context["kind"] = ANNEX_KIND
    return context


def render_annex(report: Report, template: Path | None = None) -> bytes:
    """The annex of ``report`` as .docx bytes (``template`` overrides the bundled one).
    Raises ``TemplateError`` as ``render_notice`` does."""
    from toolkit.render import TEMPLATE_DIR, render_context, render_limits

    path = Path(template) if template is not None else TEMPLATE_DIR / f"{ANNEX_KIND}.docx"
    context = annex_context(report)
    context["title_lines"] = [context["annex_title"]]
    return render_context(context, path, render_limits(report), subject=ANNEX_KIND)


@dataclass(frozen=True)
class AnnexResult:
    path: Path | None  # where the annex was written
    problem: ToolkitError | None = None  # why it was not


def write_annex(report: Report, notice: Path) -> AnnexResult:
    """Render the annex of ``report`` and write it atomically beside ``notice``."""
    from toolkit.atomic import write_atomic

    try:
        return AnnexResult(write_atomic(annex_path_for(notice), render_annex(report)))
    except ToolkitError as exc:
        return AnnexResult(None, exc)
