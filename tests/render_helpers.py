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


# ---------------------------------------------------------------------------------------------
# The two published notices (shared/reference 000 and 004) as ledgers, read by the reader
# ---------------------------------------------------------------------------------------------

LETTERHEAD_META = {
    "发文字号": "攀文联党〔2024〕12号",
    "抄送": "市委巡察办，市委第一巡察组",
    "印发机关": "中共攀枝花市文联党组办公室",
    "印发日期": "2024年12月20日",
}

SEED_000_META = {
    "发文机关": "中共梅州市梅江区文联党组",
    "被巡察单位": "区文联",
    "部署依据": "区委巡察工作统一部署",
    "巡察组": "九届区委第四轮巡察第二组",
    "巡察开始日期": "2023年9月26日",
    "巡察结束日期": "2023年11月26日",
    "反馈日期": "2024年2月23日",
    "统计截止日期": "2024年6月30日",
    "成文日期": "2024年7月5日",
    "通报类型": "阶段性进展",
    "整改组织情况标题": "以高度的政治自觉和强烈的责任担当，切实抓紧抓好巡察整改工作",
    "下一步工作安排标题": "注重标本兼治，不断巩固拓展巡察整改成果。",
    "序号格式": "1.",
    "整改组织情况": (
        "（一）迅速部署，有序推进。区文联党组对巡察组反馈意见高度重视，诚恳接受，照单全收。"
        "巡察反馈后，区文联党组先后召开7次专题会议，1次专题民主生活会，1次巡察情况反馈会。\n"
        "（二）加强领导，统一认识。巡察情况反馈会后，区文联党组立即召开专题会议，成立巡察整改"
        "工作领导小组，由党组书记任组长，全面压实第一责任，班子成员、各分管领导严格落实“一岗双责”。\n"
        "（三）细化措施，逐项击破。提高政治站位，把落实巡察反馈意见作为当前重要的政治任务。\n"
        "（四）完善机制，狠抓落实。完善机关管理制度，重新修订梅江区文联《制度汇编》。"
    ),
    "长期整改举措": "（一）坚持常态长效。对需要长期坚持的整改事项，建立台账，定期督办。",
    "下一步工作安排": (
        "一是持续抓好整改。坚持目标不变、标准不降、力度不减。\n"
        "二是强化成果运用。把巡察整改与推动文艺事业高质量发展结合起来。"
    ),
}

SEED_004_META = {
    "发文机关": "中共攀枝花市文联党组",
    "被巡察单位": "市文联",
    "部署依据": "市委统一部署",
    "巡察组": "市委第一巡察组",
    "巡察开始日期": "2024年4月10日",
    "巡察结束日期": "2024年5月11日",
    "反馈日期": "2024年7月10日",
    "统计截止日期": "2024年10月30日",
    "成文日期": "2024年12月20日",
    "通报类型": "集中整改进展",
    "整改组织情况": (
        "市文联党组全面履行巡察整改主体责任，坚持把巡察整改作为当前的一项重要政治任务。\n"
        "（一）提高站位，迅速部署。第一时间召开巡察整改部署会安排整改工作，先后3次召开党组会议。\n"
        "（二）加强领导，压实责任。成立市委巡察反馈意见整改落实工作领导小组，党组书记任组长。"
    ),
    "长期整改举措": "坚持把理论学习作为长期任务，常态化开展专题学习，建立健全长效机制。",
    "下一步工作安排": (
        "（一）持续深化整改。持续深入学习习近平总书记关于巡视工作重要讲话精神。\n"
        "（二）巩固整改成果。对已完成的整改任务，适时组织“回头看”，巩固整改成果，防止问题反弹。"
    ),
    "联系电话": "0812—5503651",
    "通讯地址": "攀枝花市东区公园路6号",
    "电子邮箱": "xunchazhenggai.wenlian.dangzu.office2024@panzhihua-wenlian.gov.cn",
}

_SEED_PROGRESS = (
    "一是召开党组会议专题研究，制定整改方案，明确责任领导、责任部门和整改时限。\n"
    "二是建立整改台账，实行销号管理，每月调度整改进展，确保整改任务落到实处。\n"
    "三是举一反三，建立健全长效机制，修订完善相关制度，巩固拓展整改成果。"
)


def seed_rows(kind_004: bool) -> list[list]:
    """Problem rows in the manner of the published notices: long progress, nested quotes."""
    from ledger_factory import row

    cats = ("落实上级决策部署不到位，推进文艺发展举措不够有力",
            "聚焦群众身边腐败问题和不正之风以及损害群众利益问题",
            "基层党组织建设薄弱")
    problems = [
        "区文联党组政治意识不够强，站位不够高。",
        "党组对文联工作前瞻性谋划不足，未将“审计发现问题整改”纳入“三重一大”事项研究。",
        "文联改革措施推进不力。",
        "文艺人才培养力度不够。",
        "落实党风廉政建设责任制不到位。",
        "工作作风不实，学习教育培训走形式。",
        "对协会资金使用风险管控不严。",
        "财务制度执行不严。",
        "党组在强化选人用人工作把关方面，作用发挥不够充分。",
        "党内谈心谈话不规范，针对性不强。",
    ]
    rows = []
    for i, text in enumerate(problems):
        status = ("已完成", "正在整改", "已完成", "未完成")[i % 4]
        rows.append(row(i + 1, cats[i * 3 // len(problems)], text, status,
                        measures="制定整改方案，明确整改措施。\n建立长效机制。",
                        progress=_SEED_PROGRESS,
                        long_term="是" if i in (1, 9) else "",
                        flagged="是" if kind_004 and i in (0, 6) else "",
                        deadline="长期坚持" if i in (1, 9) else "2024年12月底前"))
    return rows


def seed_ledger(path: Path, seed: str, letterhead: bool = False, **extra) -> Path:
    """The 000 (阶段性进展) or 004 (集中整改进展) seed as an .xlsx ledger; with
    ``letterhead``, a 发文字号 and a 版记; ``extra`` adds or overrides 通报信息 keys."""
    from ledger_factory import write_ledger

    meta = dict(SEED_004_META if seed == "004" else SEED_000_META)
    if letterhead:
        meta.update(LETTERHEAD_META)
    meta.update(extra)
    return write_ledger(path, seed_rows(seed == "004"), meta=meta)
