"""The notice's own metadata: core properties set from the notice, no thumbnail.

A template (the bundled ones, or a clerk's saved by Word) carries the properties of whoever
made it and often a thumbnail of its first page; the notice gets its own: its title, the
发文机关 (or the 起草人) as author, the build time as created and modified.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from docx.opc.constants import RELATIONSHIP_TYPE as RT

__all__ = ["set_notice_properties"]


def set_notice_properties(document: Any, context: dict[str, Any], kind: str,
                          now: datetime | None = None) -> None:
    """Core properties of the python-docx ``document`` for the notice ``context``."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    props = document.core_properties
    props.title = "".join(context["title_lines"])[:255]  # one title: its lines are layout only
    author = (context.get("author") or context["issuer"])[:255]
    props.author = author
    props.last_modified_by = author
    props.subject = kind
    props.created = now
    props.modified = now
    props.revision = 1
    props.comments = ""
    props.keywords = ""
    props.category = ""
    package = document.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(rid)
