"""Hand-built ``model.Report`` objects for the render and PDF tests (no reader involved)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from toolkit.model import (
    DONE,
    IN_PROGRESS,
    NOT_DONE,
    Counts,
    Ledger,
    Meta,
    Problem,
    Report,
    Stats,
)

FULL_META = dict(
    issuer="中共攀枝花市文联党组",
    unit="市文联",
    basis="市委统一部署",
    group="市委第一巡察组",
    start_date=date(2024, 4, 10),
    end_date=date(2024, 5, 11),
    feedback_date=date(2024, 7, 10),
    as_of=date(2024, 10, 30),
    issue_date=date(2024, 12, 20),
    organisation=(
        "市文联党组全面履行巡察整改主体责任，坚持把巡察整改作为当前的一项重要政治任务。",
        "第一时间召开巡察整改部署会安排整改工作。\n\n成立巡察整改工作领导小组。",
    ),
    long_term_measures=("坚持把理论学习作为长期任务，常态化开展专题学习。",),
    next_steps=(
        "持续深入学习习近平总书记关于巡视工作重要讲话精神。",
        "对已完成的整改任务，适时组织“回头看”，巩固整改成果。",
    ),
    phone="0812—5503651",
    address="攀枝花市东区公园路6号",
    email="391024768@qq.com",
)


def make_problem(seq: int, **kw) -> Problem:
    """A problem row; every field has a harmless default."""
    values = dict(
        row=seq + 3,
        seq=seq,
        number=str(seq),
        category="",
        subcategory="",
        problem=f"第{seq}个具体问题的描述。",
        measures=f"第{seq}个问题的整改措施。",
        leader="张三",
        unit="办公室",
        deadline_text="2024年9月底前",
        deadline=date(2024, 9, 30),
        deadline_state="date",
        progress=f"一是第{seq}个问题的整改进展。\n二是继续推进。",
        status_text=DONE,
        status=DONE,
        status_state="ok",
        long_term=False,
        flagged=False,
        done_date=None,
        done_date_text="",
        recovered_text="",
        recovered_wan=None,
        evidence="",
        remarks="",
    )
    values.update(kw)
    return Problem(**values)


def summary_sentence(as_of: date, c: Counts) -> str:
    """The statistics sentence, as the count stage writes it (built here for the tests)."""
    s = (
        f"截至{as_of.year}年{as_of.month}月{as_of.day}日，巡察反馈的{c.total}个具体问题，"
        f"已完成整改{c.done}个，正在整改{c.in_progress}个，未完成{c.not_done}个"
    )
    if c.long_term:
        s += f"，长期坚持{c.long_term}个"
    if c.recovered_wan:
        s += f"，追赃挽损{c.recovered_wan}万元"
    return s + "。"


def count(problems, as_of: date) -> Stats:
    done = sum(p.status == DONE for p in problems)
    prog = sum(p.status == IN_PROGRESS for p in problems)
    not_done = sum(p.status == NOT_DONE for p in problems)
    rec = sum((p.recovered_wan or Decimal(0) for p in problems), Decimal(0))
    overall = Counts(
        total=len(problems),
        done=done,
        in_progress=prog,
        not_done=not_done,
        long_term=sum(p.long_term for p in problems),
        flagged=sum(p.flagged for p in problems),
        overdue=0,
        recovered_wan=rec,
    )
    return Stats(
        as_of=as_of,
        overall=overall,
        by_category=(),
        by_unit=(),
        summary=summary_sentence(as_of, overall),
    )


def make_report(problems, meta: dict | None = None, summary: str | None = None) -> Report:
    meta_values = dict(FULL_META if meta is None else meta)
    m = Meta(**meta_values)
    problems = tuple(problems)
    stats = count(problems, m.as_of or date(2024, 10, 30))
    if summary is not None:
        stats = Stats(stats.as_of, stats.overall, (), (), summary)
    ledger = Ledger(
        path=Path("台账.xlsx"),
        sheet="整改台账",
        header_row=3,
        columns={},
        headers={},
        problems=problems,
        meta=m,
        findings=(),
    )
    return Report(ledger=ledger, findings=(), stats=stats)


def sample_problems() -> list[Problem]:
    """Three categories, subcategories, all statuses, one flagged, two long-term rows."""
    cat1 = "落实上级决策部署不到位，推进文艺发展举措不够有力"
    cat2 = "第二方面问题：聚焦群众身边腐败问题和不正之风"
    cat3 = "三、基层党组织建设薄弱"
    return [
        make_problem(1, category=cat1, subcategory="学习贯彻习近平总书记关于文艺工作的重要论述有差距",
                     problem="区文联党组政治意识不够强，站位不够高。", flagged=True),
        make_problem(2, category=cat1, subcategory="学习贯彻习近平总书记关于文艺工作的重要论述有差距",
                     problem="党组对文联工作前瞻性谋划不足。", status=IN_PROGRESS,
                     status_text="正在整改", long_term=True),
        make_problem(3, category=cat1, subcategory="（二）改革推进不力",
                     problem="文联改革措施推进不力。", status=NOT_DONE, status_text="未完成",
                     deadline_text="2024 年 12 月底前完成整改。", deadline=date(2024, 12, 31)),
        make_problem(4, category=cat2, problem="对协会资金使用风险管控不严。",
                     recovered_wan=Decimal("0.02")),
        make_problem(5, category=cat3, problem="党内谈心谈话不规范，针对性不强。",
                     status=IN_PROGRESS, status_text="整改中", long_term=True,
                     deadline_text="长期坚持", deadline=None, deadline_state="open"),
    ]
