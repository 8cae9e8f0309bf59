"""Write the bundled .xls sample ledger ``市体育局巡察整改台账.xls`` (Excel 97-2003 format).

Offices still keep ledgers in the old format (the default of older WPS), so the sample folder
holds one: another unit than the .xlsx sample, the same layouts (a merged title, the 问题类别
cell merged down over its rows, Alt+Enter line breaks, real Excel dates, a 通报信息 sheet).
The problems are invented for the sample. Needs xlwt (the ``test`` extra)::

    python ledgers/make_sample_xls.py [OUTPUT.xls]
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import xlwt

DEFAULT_OUTPUT = Path(__file__).with_name("市体育局巡察整改台账.xls")
HEADER = ["序号", "问题类别", "具体问题", "整改措施", "责任领导", "责任部门", "整改时限",
          "整改进展", "整改状态", "长期坚持", "完成日期", "追赃挽损（万元）"]
WIDTHS = [6, 18, 44, 30, 14, 12, 14, 50, 10, 9, 12, 11]

LEDGER = [
    ("落实意识形态工作责任制不到位", [
        ("意识形态工作研判不及时，2023年仅召开1次专题会议分析研判意识形态领域情况。",
         "制定年度意识形态工作要点，每半年专题研判一次。", "党组书记、局长", "办公室",
         "2024年9月底前", "一是制定《2024年意识形态工作要点》。\n二是8月召开专题会议研判。",
         "已完成", "", datetime(2024, 8, 30), None),
        ("体育赛事活动宣传阵地审核把关不严，部分赛事宣传品未履行审核程序。",
         "建立赛事宣传品“一事一审”制度。", "分管副局长", "群众体育科",
         "长期坚持", "一是印发《体育赛事宣传品审核办法》。\n二是对今年已办赛事宣传品逐一补录审核记录。",
         "正在整改", "是", None, None),
    ]),
    ("公共体育服务效能不高", [
        ("全民健身设施维护不及时，部分社区健身器材损坏后长期未修复。",
         "建立健身器材巡检台账，每季度巡检一次。", "分管副局长", "群众体育科",
         "2024年12月底前", "已完成两个城区的首轮巡检，修复器材36件。", "正在整改", "", None, None),
        ("公共体育场馆免费低收费开放不到位，部分场馆开放时间未公示。",
         "在各场馆入口和局网站公示开放时间和收费标准。", "分管副局长", "场馆管理中心",
         "2024年10月30日", "尚未启动。", "未完成", "", None, None),
        ("器材采购程序不规范，2022年一批训练器材未经比选直接采购。",
         "完善采购内控制度，追回多付款项。", "党组书记、局长", "办公室",
         "2024年8月底前", "一是修订《器材采购管理办法》。\n二是追回多付款项0.35万元。",
         "已完成", "", datetime(2024, 8, 20), 0.35),
    ]),
]

META = [
    ("发文机关", "中共某某市体育局党组"), ("被巡察单位", "市体育局"),
    ("部署依据", "市委统一部署"), ("巡察组", "市委第三巡察组"),
    ("巡察开始日期", datetime(2024, 4, 8)), ("巡察结束日期", datetime(2024, 5, 10)),
    ("反馈日期", datetime(2024, 7, 5)), ("统计截止日期", datetime(2024, 10, 31)),
    ("成文日期", datetime(2024, 11, 15)), ("通报类型", "集中整改进展"),
    ("整改组织情况", "收到反馈意见后，局党组召开专题会议研究部署整改工作。\n"
                   "成立整改工作领导小组，逐条制定整改措施，明确责任领导、责任部门和整改时限。"),
    ("长期整改举措", "建立赛事宣传品审核长效机制。"),
    ("下一步工作安排", "持续推进未完成事项整改。\n巩固整改成果，建立长效机制。"),
    ("联系电话", "0812—1234567"), ("通讯地址", "某某市体育路1号"),
]


def build(output: Path) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    title = xlwt.easyxf("font: bold on, height 320; align: horiz center")
    head = xlwt.easyxf("font: bold on; align: wrap on, horiz center; borders: left thin, right thin, top thin, bottom thin")
    text = xlwt.easyxf("align: wrap on, vert top; borders: left thin, right thin, top thin, bottom thin")
    day = xlwt.easyxf("align: vert top; borders: left thin, right thin, top thin, bottom thin",
                      num_format_str="yyyy-mm-dd")
    sheet = book.add_sheet("整改台账")
    sheet.write_merge(0, 0, 0, len(HEADER) - 1, "中共某某市体育局党组巡察反馈意见整改台账", title)
    for c, (name, width) in enumerate(zip(HEADER, WIDTHS)):
        sheet.write(1, c, name, head)
        sheet.col(c).width = width * 256
    r, number = 2, 1
    for category, problems in LEDGER:
        sheet.write_merge(r, r + len(problems) - 1, 1, 1, category, text)
        for problem, measures, leader, unit, deadline, progress, status, long_term, done, recovered in problems:
            values = [number, None, problem, measures, leader, unit, deadline, progress, status,
                      long_term, done, recovered]
            for c, value in enumerate(values):
                if c == 1:
                    continue
                if isinstance(value, datetime):
                    sheet.write(r, c, value, day)
                else:
                    sheet.write(r, c, "" if value is None else value, text)
            r, number = r + 1, number + 1
    info = book.add_sheet("通报信息")
    info.write(0, 0, "项目", head)
    info.write(0, 1, "内容", head)
    info.col(0).width, info.col(1).width = 16 * 256, 60 * 256
    for i, (key, value) in enumerate(META, start=1):
        info.write(i, 0, key, text)
        info.write(i, 1, value, day if isinstance(value, datetime) else text)
    book.save(str(output))


def main(argv: list[str]) -> int:
    build(Path(argv[0]) if argv else DEFAULT_OUTPUT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
