"""The docx machinery behind rendering: docxtpl's template class, made fast for big notices.

``NoticeTemplate`` is docxtpl's ``DocxTemplate`` with its two slowest steps done faster and the
same output, plus a streamed body: the body is rendered in pieces straight into the saved
package (``with_streamed_body``), so a 50,000-problem notice never exists as one XML tree.
"""

from __future__ import annotations

import io
import re
import zipfile

from docx.oxml.ns import nsmap as docx_nsmap
from docx.oxml.parser import element_class_lookup
from docxtpl import DocxTemplate
from lxml import etree

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_LISTING_CHARS = re.compile("[\t\a\n\f]")
_PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)
_PARAGRAPH_OPEN = re.compile(r"<w:p(?: [^>]*)?>")
_OPENER_WITH_TAG = re.compile(r"<w:p [^>]*<")  # never in XML: a "<" inside a start tag
_BODY_START = re.compile(r'<w:body((?:\s+[^\s=/>]+="[^"]*")*)\s*>')
_ATTRIBUTE = re.compile(r'([^\s=/>]+)="([^"]*)"')
_NOT_STREAMABLE = ("txbxContent", "<w:sdt", "docPr", "<w:customXml", "AlternateContent",
                   "<w:body/>")
_TABLE_START = re.compile(r"<w:tbl[ >]")
_BODY_MARKER = "toolkit-body-streamed-here"
_STREAM_CHUNK = 1 << 18  # characters of rendered XML per piece: small, and few pieces


_docpr_path = etree.XPath("//wp:docPr", namespaces=docx_nsmap)


class RenderedXmlError(ValueError):
    """The rendered body is not well-formed XML (tags unbalanced across paragraphs, a
    character XML cannot hold, markup injected with ``|safe`` …). Never recovered from:
    lxml's recovering parser would silently drop everything after the fault."""


def _parse_strictly(xml: str | bytes, parser: etree.XMLParser) -> etree._Element:
    try:
        return etree.fromstring(xml, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise RenderedXmlError(str(exc)) from exc


def _listing_paragraphs(xml: str) -> list[tuple[int, int]]:
    """The spans of the paragraphs ``_PARAGRAPH.finditer(xml)`` finds that hold a tab, line
    break or page break, without visiting the others (a 10,000-problem notice has 70,000
    paragraphs and a few hundred such).

    ``_PARAGRAPH`` matches from the first opener at or after the previous match's end to the
    first ``</w:p>`` after that opener: a match never holds a whole ``</w:p>`` before its own
    end, so the one holding position ``p``, if any, opens at the first opener after the last
    ``</w:p>`` before ``p``. ``pos`` is always where the next match's opener is searched from.
    """
    if _OPENER_WITH_TAG.search(xml):  # malformed: an opener may hold a "</w:p>" itself
        return [(m.start(), m.end()) for m in _PARAGRAPH.finditer(xml)
                if _LISTING_CHARS.search(m.group(0))]
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _LISTING_CHARS.finditer(xml):
        p = m.start()
        if p < pos:
            continue  # in the paragraph just found, or before the next opener
        last = xml.rfind("</w:p>", pos, p)
        if last >= 0:
            pos = last + len("</w:p>")
        opener = _PARAGRAPH_OPEN.search(xml, pos)
        if opener is None:
            break  # no paragraph from here on
        if opener.start() > p:
            pos = opener.start()  # p is between paragraphs
            continue
        close = xml.find("</w:p>", opener.end())
        if close < 0:
            break  # an opener never closed: _PARAGRAPH matches nothing from here on
        pos = close + len("</w:p>")
        spans.append((opener.start(), pos))
    return spans


class NoticeTemplate(DocxTemplate):
    """docxtpl's DocxTemplate with its two slowest steps done faster and the same output.

    On a 10,000-problem notice docxtpl spends most of its time (1) rewriting tabs and line
    breaks in every paragraph, although only a handful contain one, and (2) moving the
    rendered body, parsed as a document of its own, into the template's document: lxml then
    re-resolves the namespace of every node. Here (1) rewrites only the paragraphs that hold
    such a character, with docxtpl's own code, and (2) parses the rendered body inside a copy
    of the document element, with python-docx's element classes, and puts that document in
    place of the old one. Templates with tables keep docxtpl's path, which fixes their grids.
    """

    def resolve_listing(self, xml):
        resolve = super().resolve_listing
        out: list[str] = []
        done = 0
        for start, end in _listing_paragraphs(xml):
            out += (xml[done:start], resolve(xml[start:end]))
            done = end
        return "".join(out) + xml[done:] if out else xml

    def _whole_document(self, body_xml: str) -> str | None:
        """The document element serialised around ``body_xml``; None when unexpected."""
        document = self.docx.element
        part = self.docx.part
        if part.element is not document or document.nsmap.get("w") != _W_NS:
            return None
        shell = etree.tostring(document, encoding="unicode")
        start, end = shell.find("<w:body"), shell.rfind("</w:body>")
        head = _BODY_START.match(body_xml)
        if start < 0 or end < start or head is None:
            return None
        # The body was serialised on its own, so it repeats the document's namespace
        # declarations; inside the document they are redundant and lxml drops them.
        kept = [f'{name}="{value}"' for name, value in _ATTRIBUTE.findall(head.group(1))
                if not (name.startswith("xmlns:")
                        and document.nsmap.get(name[6:]) == value)]
        body = "<w:body" + "".join(" " + a for a in kept) + ">" + body_xml[head.end():]
        return shell[:start] + body + shell[end + len("</w:body>"):]

    def fix_tables(self, xml):
        whole = self._whole_document(xml)
        if whole is not None:
            parser = etree.XMLParser()  # strict, unlike docxtpl's: same tree for good XML
            parser.set_element_class_lookup(element_class_lookup)
            tree = _parse_strictly(whole, parser)
            if "<w:tbl" not in xml or _grids_fit(tree):
                return tree
        # docxtpl's fix_tables (it widens or narrows table grids to the rendered cells)
        # parses with recover=True: make sure it has nothing to recover.
        _parse_strictly(xml, etree.XMLParser())
        return super().fix_tables(xml)

    def fix_docpr_ids(self, tree):
        # docxtpl's renumbering; python-docx's elements take no ``namespaces`` in xpath().
        for element in _docpr_path(tree):
            self.docx_ids_index += 1
            element.attrib["id"] = str(self.docx_ids_index)

    def streamable(self) -> bool:
        """The body can be rendered in pieces: cut after a ``</w:p>`` outside any table, every
        piece is a run of whole body children.

        Text boxes, content controls, drawings and nested tables nest paragraphs or need
        docxtpl's whole-tree fixes; templates with them take the whole-document path. A table
        at the body's level (the notices' floating 版记) streams; its rendered grid is checked
        in its piece as the whole-document path checks it (``_grids_fit``), and one that
        docxtpl's fix_tables would change raises ``TableGridNotFit``: the notice is then
        rendered whole.
        """
        source = self.get_xml()
        head = _BODY_START.match(source)
        return (head is not None and not any(word in source for word in _NOT_STREAMABLE)
                and all(name.startswith("xmlns:") for name, _ in _ATTRIBUTE.findall(head.group(1)))
                and self.docx.part.element is self.docx.element
                and not _nested_tables(self.docx.element.body))

    def render_around_body(self, context, jinja_env) -> str:
        """docxtpl's render() for everything but the body; the body's Jinja source.

        Headers, footers, properties and footnotes are rendered as docxtpl does; the body
        is left empty with a marker for ``stream_body`` to fill in the saved package.
        """
        self.render_init()
        jinja_env.autoescape = True
        source = re.sub(r"<w:p([ >])", r"\n<w:p\1", self.patch_xml(self.get_xml()))
        self.current_rendering_part = self.docx._part
        for uri in (self.HEADER_URI, self.FOOTER_URI):
            for rel_key, xml in self.build_headers_footers_xml(context, uri, jinja_env):
                self.map_headers_footers_xml(rel_key, xml)
        self.render_properties(context, jinja_env)
        self.render_footnotes(context, jinja_env)  # needs the template's sections: before
        body = self.docx.element.body
        for child in list(body):
            body.remove(child)
        body.text = _BODY_MARKER
        self.is_rendered = True
        return source

    def stream_body(self, source: str, context, jinja_env, write) -> None:
        """Render the body in pieces, each as docxtpl's post-processing and lxml's
        parse-and-serialise would leave it, passing UTF-8 bytes to ``write``.

        Pieces are cut right after a ``</w:p>`` (a body child here), where none of
        docxtpl's rewrites can straddle the cut, so the result equals the whole-body path.
        """
        nsmap = self.docx.element.nsmap
        declarations = "".join(f' xmlns:{k}="{v}"' if k else f' xmlns="{v}"'
                               for k, v in nsmap.items())
        opening = f"<w:body{declarations}>"
        parser = etree.XMLParser()  # strict: a bad piece is an error, never a cut notice
        pending: list[str] = []
        size = 0
        started = False

        def emit(text: str) -> None:
            nonlocal started
            text = re.sub(r"\n<w:p([ >])", r"<w:p\1", text)
            text = (text.replace("{_{", "{{").replace("}_}", "}}")
                    .replace("{_%", "{%").replace("%_}", "%}"))
            text = self.resolve_listing(text)
            if not started:
                head = _BODY_START.match(text)
                if head is None:
                    raise RenderedXmlError("rendered body does not start with <w:body>")
                text, started = text[head.end():], True
            text = text.removesuffix("</w:body>")
            if not text:
                return
            piece = _parse_strictly(opening + text + "</w:body>", parser)
            if "<w:tbl" in text and not _grids_fit(piece):
                raise TableGridNotFit("a rendered table needs docxtpl's fix_tables")
            wrapped = etree.tostring(piece, encoding="unicode")
            inner = wrapped[wrapped.index(">") + 1: -len("</w:body>")] if not wrapped.endswith("/>") else ""
            write(inner.encode("utf-8"))

        # A guarded environment bounds the output (template_guard.GuardedEnvironment):
        # checked on every piece, inline, since this loop runs once per piece of the notice.
        limits = getattr(jinja_env, "limits", None)
        budget = limits.output_chars if limits is not None else None
        for piece in jinja_env.from_string(source).generate(context):
            pending.append(piece)
            size += len(piece)
            if budget is not None:
                budget -= len(piece)
                if budget < 0:
                    jinja_env.output_exceeded()
            if size >= _STREAM_CHUNK and "</w:p>" in piece:
                text = "".join(pending)
                cut = _body_level_cut(text)
                if cut:
                    emit(text[:cut])
                    pending, size = [text[cut:]], len(text) - cut
        emit("".join(pending))

    def map_tree(self, tree):
        if tree.tag != f"{{{_W_NS}}}document":
            return super().map_tree(tree)
        document, part = self.docx, self.docx.part
        part._element = tree
        document._element = tree
        document._Document__body = None  # python-docx's cached body proxy
        if part.element is not tree or document.element is not tree:
            raise RuntimeError("python-docx no longer lets the document element be replaced")


def _grids_fit(tree: etree._Element) -> bool:
    """docxtpl's fix_tables would change no table grid of ``tree``: no row has more cells
    than the grid has columns, and the widest row (with spans) fills the grid. The same
    walk as docxtpl's (rows of nested tables included)."""
    w = f"{{{_W_NS}}}"
    for table in tree.iter(f"{w}tbl"):
        grid = table.find(f"{w}tblGrid")
        if grid is None:
            return False
        columns = len(grid.findall(f"{w}gridCol"))
        widest = 0
        for row in table.iter(f"{w}tr"):
            cells = row.findall(f"{w}tc")
            if len(cells) > columns:
                return False
            spans = 0
            for cell in cells:
                span = cell.find(f"{w}tcPr/{w}gridSpan")
                spans += int(span.get(f"{w}val")) if span is not None else 1
            widest = max(widest, spans)
        if widest < columns:
            return False
    return True


def with_streamed_body(package: bytes, stream) -> bytes:
    """``package`` with the body marker of word/document.xml replaced by what ``stream``
    writes; the other members are copied as they are, in their order."""
    marker = f"<w:body>{_BODY_MARKER}</w:body>".encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != "word/document.xml":
                target.writestr(info, data)
                continue
            head, tail = data.split(marker)
            with target.open(info, "w") as member:
                member.write(head + b"<w:body>")
                stream(member.write)
                member.write(b"</w:body>" + tail)
    return out.getvalue()


class TableGridNotFit(Exception):
    """A streamed piece holds a table whose grid docxtpl's fix_tables would change: the
    notice must be rendered whole instead (render.py catches it)."""


def _nested_tables(body: etree._Element) -> bool:
    w = f"{{{_W_NS}}}"
    return any(table.getparent() is not body for table in body.iter(f"{w}tbl"))


def _body_level_cut(text: str) -> int:
    """Where rendered body text can be cut: right after its last ``</w:p>`` that is not inside
    a table, or before the table that ``</w:p>`` is in (tables are not nested: see
    ``streamable``); 0 when there is no such place yet."""
    cut = text.rindex("</w:p>") + len("</w:p>")
    opened = [m.start() for m in _TABLE_START.finditer(text, 0, cut)]
    if opened and opened[-1] > text.rfind("</w:tbl>", 0, cut):
        cut = opened[-1]
    return cut
