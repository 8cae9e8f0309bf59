"""What a notice needs to be an official document, and which of it a ledger leaves out.

A notice without 发文机关, 成文日期, 巡察组, 部署依据 or 统计截止日期 is still written (the
clerk may be trying the toolkit out), but it is not fit to send: the CLI and the watcher say
so next to "已生成".
"""

from __future__ import annotations

from .model import Meta

# Meta field -> the key a clerk writes in the 通报信息 sheet, in the order they are listed.
OFFICIAL_PARTS: tuple[tuple[str, str], ...] = (
    ("issuer", "发文机关"),
    ("issue_date", "成文日期"),
    ("group", "巡察组"),
    ("basis", "部署依据"),
    ("as_of", "统计截止日期"),
)


def missing_official_parts(meta: Meta) -> tuple[str, ...]:
    """The 通报信息 keys, among OFFICIAL_PARTS, that are missing or blank."""
    missing = []
    for field_name, label in OFFICIAL_PARTS:
        value = getattr(meta, field_name)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(label)
    return tuple(missing)
