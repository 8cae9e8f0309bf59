"""The template context's problems are views (context.ProblemView): little memory, the same notice.

A problem's values are made from the ledger's Problem when a template reads them, instead of
a dict of about thirty values, six lists of lines and a heading per problem kept for the whole
render (120 MB at 50,000 rows; bench/context_memory.py measures it). The notice must not
change by a byte, and templates must read a view exactly as they read the dict.
"""

from __future__ import annotations

import gc
import io
import json
import pickle
import sys
import tracemalloc
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from jinja2 import TemplateError, UndefinedError
from render_helpers import make_problem, make_report

import toolkit.render as render
from toolkit.context import ProblemView, build_context
from toolkit.count import count
from toolkit.model import KIND_CENTRAL, KIND_STAGE, KINDS, Report
from toolkit.read import read_ledger
from toolkit.template_guard import limits_for
from toolkit.validate import validate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from ledger_gen import write_bench_ledger

ROWS = 1000
DOCUMENTED_KEYS = [  # docs/templates.md, 每个问题, in the order the dict had them
    "no", "label", "seq", "row", "ledger_number", "category", "subcategory", "text", "lines",
    "measures", "measures_lines", "progress", "progress_lines", "leader", "unit", "deadline",
    "deadline_date", "status", "status_label", "long_term", "flagged", "done_date", "recovered",
    "evidence", "evidence_lines", "remarks", "remarks_lines", "responsible", "heading_lines"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Report]:
    folder = tmp_path_factory.mktemp("context-memory")
    out = {}
    for shape in ("standard", "overdue"):
        ledger = read_ledger(write_bench_ledger(folder / f"{shape}.xlsx", ROWS, shape=shape))
        out[shape] = Report(ledger, validate(ledger), count(ledger))
    return out


def _plain(value):
    """The context as plain dicts and lists, as build_context made it before views."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _parts(docx: bytes) -> dict[str, bytes]:
    """Every part of the package but docProps/core.xml (which holds the build time)."""
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return {name: package.read(name) for name in package.namelist() if name != "docProps/core.xml"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", ["standard", "overdue"])
def test_views_render_byte_for_byte_the_notice_of_plain_dicts(reports, shape, kind, monkeypatch):
    report = reports[shape]
    with_views = _parts(render.render_notice(report, kind))
    monkeypatch.setattr(render, "build_context", lambda r, k: _plain(build_context(r, k)))
    with_dicts = _parts(render.render_notice(report, kind))
    assert with_views.keys() == with_dicts.keys()
    assert with_views["word/document.xml"] == with_dicts["word/document.xml"]
    assert with_views == with_dicts


def _kept(make) -> tuple[object, int]:
    gc.collect()
    tracemalloc.start()
    try:
        value = make()
        return value, tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shape", ["standard", "overdue"])
def test_the_context_keeps_a_fraction_of_the_dicts(reports, shape):
    report = reports[shape]
    context, kept = _kept(lambda: build_context(report, KIND_CENTRAL))
    _dicts, kept_as_dicts = _kept(lambda: _plain(context))
    # Views: ~0.2 kB a problem here; the dicts they replace: ~2.5-4 kB.
    assert kept < kept_as_dicts / 4, (kept, kept_as_dicts)
    assert kept / ROWS < 600, kept


def test_each_problem_is_one_view_in_every_list(reports):
    context = build_context(reports["standard"], KIND_STAGE)
    problems = context["problems"]
    assert all(type(p) is ProblemView for p in problems)
    in_categories = [p for category in context["categories"] for p in category["problems"]]
    in_subcategories = [p for category in context["categories"]
                        for sub in category["subcategories"] for p in sub["problems"]]
    assert [id(p) for p in in_categories] == [id(p) for p in problems]
    assert [id(p) for p in in_subcategories] == [id(p) for p in problems]
    # flagged and long_term number their own problems 1, 2, … over the same rows
    for key, flag in (("flagged", "flagged"), ("long_term", "long_term")):
        chosen = [p for p in problems if p[flag]]
        assert chosen, key
        assert [p["no"] for p in context[key]] == list(range(1, len(chosen) + 1))
        assert [p["label"] for p in context[key]] == [f"{i}．" for i in range(1, len(chosen) + 1)]
        assert [p["row"] for p in context[key]] == [p["row"] for p in chosen]
        assert [p["text"] for p in context[key]] == [p["text"] for p in chosen]
        assert context[key][0]["heading_lines"][0].startswith("1．对“")


def _a_view() -> ProblemView:
    problem = make_problem(3, problem="问题“甲”\n第二行", progress="一是……\n\n二是&<乙>", long_term=True)
    return build_context(make_report([problem]), KIND_STAGE)["problems"][0]


def test_a_view_reads_as_the_dict_it_replaces():
    view = _a_view()
    as_dict = dict(view)
    assert list(view) == list(view.keys()) == list(as_dict) == DOCUMENTED_KEYS
    assert len(view) == len(DOCUMENTED_KEYS) and "text" in view and "nope" not in view
    assert view == as_dict and as_dict == view and repr(view) == repr(as_dict)
    assert view["lines"] == ["问题“甲”", "第二行"] and view["text"] == "问题“甲”\n第二行"
    assert view["progress_lines"] == ["一是……", "二是&<乙>"]
    assert view["heading_lines"] == ["1．对“问题‘甲’", "第二行”的整改进展情况"]
    assert view["status_label"].endswith("（长期坚持）")
    assert view.get("nope") is None and view.get("no") == 1
    with pytest.raises(KeyError):
        view["nope"]
    copied = pickle.loads(pickle.dumps(view))  # a plain dict: no toolkit needed to unpickle
    assert type(copied) is dict and copied == as_dict
    assert type(view.copy()) is dict and json.loads(json.dumps(view.copy())) == as_dict
    with pytest.raises(TypeError):
        view["text"] = "改写"  # type: ignore[index]


TEMPLATE = ("{{ p.text }}|{{ p['label'] }}|{% for line in p.progress_lines %}{{ line }};{% endfor %}|"
            "{{ p|length }}|{{ p.items()|list|length }}|{{ p.get('status') }}|{{ 'text' in p }}|"
            "{% for key, value in p|dictsort %}{{ key }}={{ value }} {% endfor %}")


def test_templates_read_a_view_as_the_dict():
    view = _a_view()
    env = render._environment(limits_for(1, 100))
    template = env.from_string(TEMPLATE)
    assert template.render(p=view) == template.render(p=dict(view))
    assert "二是&amp;&lt;乙&gt;;" in template.render(p=view)
    for value in (view, dict(view)):
        for source in ("{{ p.no_such_key }}", "{{ p['no_such_key'] }}"):
            with pytest.raises(UndefinedError):
                env.from_string(source).render(p=value)
        with pytest.raises(TemplateError):  # the sandbox's refusal or undefined: an error either way
            env.from_string("{{ p._problem }}").render(p=value)
