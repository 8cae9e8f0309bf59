"""Build small ledger workbooks in code for the tests (openpyxl writes merges and formulas)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

HEADER = ["序号", "问题类别", "具体问题", "整改措施", "责任领导", "责任部门", "整改时限",
          "整改进展", "整改状态", "长期坚持", "点人点事", "追赃挽损（万元）"]

META = {
    "发文机关": "中共某某市文联党组",
    "被巡察单位": "市文联",
    "部署依据": "市委统一部署",
    "巡察组": "市委第一巡察组",
    "巡察开始日期": datetime(2024, 4, 10),
    "巡察结束日期": "2024年5月11日",
    "反馈日期": datetime(2024, 7, 10),
    "统计截止日期": "2024-10-30",
    "成文日期": datetime(2024, 12, 20),
    "通报类型": "集中整改进展",
    "整改组织情况": "第一段组织情况。\n第二段组织情况。",
    "长期整改举措": "长期举措一。",
    "下一步工作安排": "下一步一。\n下一步二。",
    "联系电话": "0812—5503651",
    "通讯地址": "某某市公园路6号",
    "电子邮箱": "test@example.com",
}


def row(number, category, problem, status, *, measures="措施", leader="张书记", unit="办公室",
        deadline="2024年9月底前", progress="一是做了。\n二是也做了。", long_term="", flagged="",
        recovered=None):
    return [number, category, problem, measures, leader, unit, deadline, progress, status,
            long_term, flagged, recovered]


def default_rows():
    return [
        row(1, "政治建设不到位", "问题甲", "已完成"),
        row(2, "政治建设不到位", "问题乙", "正在整改", deadline="2025年12月底前"),
        row(3, "财务管理不规范", "问题丙", "未完成", deadline="2024年9月30日"),
        row(4, "财务管理不规范", "问题丁", "正在整改", long_term="是", deadline="长期坚持"),
        row(5, "财务管理不规范", "问题戊", "已完成", recovered=0.02, flagged="是"),
    ]


def write_ledger(path: Path, rows=None, *, header=None, meta=META, title_rows=(),
                 merges=(), sheet_title="整改台账", extra_sheets=(), epoch=None) -> Path:
    """Write a ledger: optional title rows, a header, the rows, and a 通报信息 sheet."""
    wb = Workbook()
    if epoch is not None:
        wb.epoch = epoch  # e.g. the 1904 date system of old Mac Excel
    for name in extra_sheets:
        other = wb.create_sheet(name, 0)
        other["A1"] = "说明"
    ws = wb.active if not extra_sheets else wb.worksheets[len(extra_sheets)]
    ws.title = sheet_title
    for title in title_rows:
        ws.append([title])
    ws.append(list(header or HEADER))
    for values in rows if rows is not None else default_rows():
        ws.append(list(values))
    for ref in merges:
        ws.merge_cells(ref)
    if meta is not None:
        ms = wb.create_sheet("通报信息")
        ms.append(["项目", "内容"])
        for key, value in meta.items():
            ms.append([key, value])
    wb.save(path)
    return path
