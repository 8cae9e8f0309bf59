"""A new, empty ledger with the canonical layout (``toolkit init``), written with xlsxwriter."""

from __future__ import annotations

import io
from datetime import date

from .model import KINDS, STATUSES
from .normalize import CANONICAL_HEADERS

# (field, width) in the order clerks fill a row in.
LAYOUT = (
    ("number", 6), ("category", 18), ("subcategory", 18), ("problem", 40), ("measures", 36),
    ("leader", 10), ("unit", 12), ("deadline", 16), ("progress", 48), ("status", 11),
    ("long_term", 9), ("flagged", 9), ("done_date", 12), ("recovered", 14), ("evidence", 18),
    ("remarks", 14),
)
DATA_ROWS = 500  # rows that carry the dropdowns and formats

META_NOTES = (
    ("发文机关", "中共XX市XX党组", "通报标题和落款署名"),
    ("被巡察单位", "市XX局", "开头段落：“…对{被巡察单位}党组开展了巡察”"),
    ("部署依据", "市委统一部署", "开头段落：“根据…”"),
    ("巡察组", "市委第一巡察组", "开头段落"),
    ("巡察开始日期", "2024-04-10", "开头段落，填日期"),
    ("巡察结束日期", "2024-05-11", "开头段落，填日期"),
    ("反馈日期", "2024-07-10", "开头段落；整改时限未写年份时据此推定年份"),
    ("统计截止日期", "2024-10-30", "统计句“截至…”和逾期判断；不填按当天计算"),
    ("成文日期", "2024-12-20", "落款日期"),
    ("通报类型", "阶段性进展", "阶段性进展 或 集中整改进展，决定使用哪个模板"),
    ("整改组织情况", "（每段一行，Alt+Enter 换行）", "通报第一部分"),
    ("长期整改举措", "（每段一行）", "长期整改任务部分"),
    ("下一步工作安排", "（每段一行）", "最后一部分"),
    ("联系电话", "0812—5503651", "集中整改进展通报的联系方式"),
    ("通讯地址", "XX市XX路X号", "联系方式"),
    ("电子邮箱", "name@example.com", "联系方式"),
    # Optional, for the formal paper form (GB/T 9704 版头 and 版记; see docs/templates.md).
    ("发文字号", "攀文联党〔2024〕12号", "可不填；填了则通报带红色版头（发文机关标志、发文字号、红色分隔线）"),
    ("印章", "否", "可不填；填“是”时落款按加盖印章的格式排"),
    ("抄送", "市委巡察办", "可不填；填了则最后一页带版记"),
    ("印发机关", "中共XX市XX党组办公室", "可不填；版记中的印发机关"),
    ("印发日期", "2024-12-20", "可不填；版记中的印发日期"),
)


def blank_ledger_bytes() -> bytes:
    import xlsxwriter  # deferred: only ``toolkit init`` needs it

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                      "strings_to_urls": False, "strings_to_numbers": False})
    header_fmt = wb.add_format({"bold": True, "align": "center", "valign": "vcenter",
                                "text_wrap": True, "border": 1, "bg_color": "#DDEBF7"})
    cell_fmt = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top", "border": 1})
    title_fmt = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})

    ws = wb.add_worksheet("整改台账")
    last = len(LAYOUT) - 1
    ws.merge_range(0, 0, 0, last, "巡察反馈意见整改台账", title_fmt)
    ws.set_row(0, 30)
    for col, (field, width) in enumerate(LAYOUT):
        ws.write_string(1, col, CANONICAL_HEADERS[field], header_fmt)
        ws.set_column(col, col, width, date_fmt if field == "done_date" else cell_fmt)
    ws.freeze_panes(2, 0)
    columns = {field: col for col, (field, _) in enumerate(LAYOUT)}
    first, last_row = 2, 2 + DATA_ROWS - 1
    ws.data_validation(first, columns["status"], last_row, columns["status"], {
        "validate": "list", "source": list(STATUSES),
        "input_title": "整改状态", "input_message": "已完成 / 正在整改 / 未完成",
        "error_title": "整改状态", "error_message": "请从下拉列表中选择：已完成、正在整改、未完成"})
    for field in ("long_term", "flagged"):
        ws.data_validation(first, columns[field], last_row, columns[field], {
            "validate": "list", "source": ["是", "否"],
            "error_message": "请选择 是 或 否"})
    ws.data_validation(first, columns["done_date"], last_row, columns["done_date"], {
        "validate": "date", "criteria": ">=", "value": date(2000, 1, 1),
        "input_message": "填写日期，如 2024-10-30", "error_message": "请填写有效日期，如 2024-10-30"})

    meta = wb.add_worksheet("通报信息")
    meta.write_string(0, 0, "项目", header_fmt)
    meta.write_string(0, 1, "内容", header_fmt)
    meta.write_string(0, 2, "说明（示例）", header_fmt)
    meta.set_column(0, 0, 16, cell_fmt)
    meta.set_column(1, 1, 60, cell_fmt)
    meta.set_column(2, 2, 56, cell_fmt)
    for row, (key, example, use) in enumerate(META_NOTES, start=1):
        meta.write_string(row, 0, key, cell_fmt)
        meta.write_string(row, 2, f"{use}。示例：{example}", cell_fmt)
    kind_row = 1 + [k for k, _, _ in META_NOTES].index("通报类型")
    meta.data_validation(kind_row, 1, kind_row, 1, {"validate": "list", "source": list(KINDS)})
    meta.freeze_panes(1, 0)
    wb.close()
    return buffer.getvalue()
