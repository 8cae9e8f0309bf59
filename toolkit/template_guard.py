"""Bounds for rendering a template nobody vetted: a sandbox that cannot run away.

A notice template is an ordinary .docx holding Jinja2, and anyone may drop one into the
templates folder or pass ``--template``. Jinja's sandbox already stops attribute tricks
(``__class__``, ``__subclasses__``); it does not stop a template from asking for two
gigabytes (``'a'*2000000000``), looping for ever (nested ``range(100000)``), recursing, or
pulling in other files. ``GuardedEnvironment`` adds what is missing:

* no ``{% include %}``, ``{% import %}``, ``{% from %}`` or ``{% extends %}`` (there is no loader);
* every operation that can make a big value from small ones is checked *before* it runs
  (``*``, ``**``, printf and ``str.format`` widths, ``center``/``ljust``/…, ``replace``,
  ``join``, ``indent``, ``slice``, ``lipsum``) and every produced value is checked after;
* every ``{% for %}`` counts its iterations against a budget and every ``{{ … }}``, call and
  attribute lookup checks a deadline; the rendered output is counted while it is produced;
* recursion ends in ``RecursionError``, which ``describe_failure`` turns into a message.

The limits grow with the ledger (``limits_for``), so a 50,000-problem notice fits and a
hostile template on a small ledger is stopped in seconds. Everything a clerk sees is a
one-line Chinese message from ``describe_failure``.
"""

from __future__ import annotations

import functools
import re
import string
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, nodes, pass_context
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer
from lxml import etree

__all__ = [
    "GuardedEnvironment",
    "RenderLimits",
    "TemplateLimitError",
    "active_content",
    "describe_failure",
    "limits_for",
    "unbalanced_tags",
]

_INT_BITS = 100_000  # about 30,000 decimal digits: more than any notice needs
_WIDTH = 10_000  # the widest field a format spec may ask for
_SLOW_TEXT = 1 << 20  # input cap of the filters that are slow per character
_MAX_CALL_DEPTH = 100  # nested macro / recursive-loop calls
_TIME_EVERY = 256  # check the clock every this many guarded steps


@dataclass(frozen=True)
class RenderLimits:
    seconds: float  # wall-clock budget of one render
    output_chars: int  # characters of rendered XML
    value_size: int  # length of any one string, list or mapping a template makes
    iterations: int  # loop iterations, all loops together
    operations: int = 1_000_000  # calls, operators and filters, all together
    range_size: int = 100_000  # the longest range() (Jinja's own sandbox limit)


def limits_for(problems: int, text_chars: int) -> RenderLimits:
    """Limits that fit a real notice of ``problems`` problems holding ``text_chars``
    characters of ledger text, with a wide margin, and nothing much bigger."""
    output = (32 << 20) + 24 * text_chars + 8192 * problems
    return RenderLimits(seconds=60.0 + 0.005 * problems, output_chars=output,
                        value_size=output, iterations=2_000_000 + 500 * problems,
                        operations=200_000 + 100 * problems)


class TemplateLimitError(JinjaTemplateError):
    """The template asked for more than a notice can need, or for something not allowed."""


# Filters that turn text into markup: in a Word document that is raw WordprocessingML
# (|safe) or HTML Word cannot open (|urlize, |xmlattr). Every value is text and is escaped.
_RAW_MARKUP_FILTERS = ("safe", "urlize", "xmlattr")


def _refuse_raw_markup(name: str, *args: Any, **kwargs: Any) -> Any:
    raise TemplateLimitError(f"模板不允许使用 |{name}（不能插入原始 XML；文字一律原样显示）")


# ---------------------------------------------------------------------------------------------
# The AST pass: forbidden tags out, loops and concatenations guarded
# ---------------------------------------------------------------------------------------------

_GUARD_ITERABLE, _GUARD_SIZE = "toolkit_guard_iterable", "toolkit_guard_size"
_FORBIDDEN_TAGS = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from … import",
                   nodes.Extends: "extends"}


def _guard(name: str, node: nodes.Node) -> nodes.Filter:
    # A filter compiles to a direct call (a Call node would go through the sandbox's call());
    # the guard filters take the context, which also keeps Jinja from folding them at compile time.
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class _GuardTransformer(NodeTransformer):
    def generic_visit(self, node, *args, **kwargs):
        tag = _FORBIDDEN_TAGS.get(type(node))
        if tag is not None:
            raise TemplateLimitError(f"第 {node.lineno} 行：模板不允许使用 {{% {tag} %}}（不能引用其他文件）")
        return super().generic_visit(node, *args, **kwargs)

    def visit_For(self, node: nodes.For) -> nodes.For:
        node = self.generic_visit(node)
        node.iter = _guard(_GUARD_ITERABLE, node.iter)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Filter:
        return _guard(_GUARD_SIZE, self.generic_visit(node))


class _GuardedCodeGenerator(CodeGenerator):
    def visit_Template(self, node, frame=None):
        super().visit_Template(_GuardTransformer().visit(node), frame)


# ---------------------------------------------------------------------------------------------
# Pre-checks of operations that make big values out of small ones
# ---------------------------------------------------------------------------------------------

_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_SIZED = (str, bytes, list, tuple, dict, set, frozenset)


def _number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _check_printf(fmt: str) -> None:
    for match in _PRINTF_SPEC.finditer(fmt):
        for part in match.groups():
            if part == "*" or (part and int(part) > _WIDTH):
                raise TemplateLimitError(f"格式宽度过大（{match.group(0)[:20]}）")


def _check_format_spec(fmt: str) -> None:
    for _, _, spec, _ in string.Formatter().parse(fmt):
        if spec and ("{" in spec or any(int(n) > _WIDTH for n in re.findall(r"\d+", spec))):
            raise TemplateLimitError(f"格式宽度过大（{spec[:20]}）")


def _text_len(items: Iterable[Any]) -> int:
    return sum(len(x) if isinstance(x, str) else 32 for x in items)


class GuardedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with size, time and iteration bounds (see module doc)."""

    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset(["*", "**", "+", "-", "/", "//", "%"])

    def __init__(self, limits: RenderLimits, **options: Any):
        super().__init__(**options)
        self.limits = limits
        self._deadline = time.monotonic() + limits.seconds
        self._steps = 0
        self._iterations = 0
        self._output = 0
        self._depth = 0
        self.filters = {name: self._guarded_filter(name, f) for name, f in self.filters.items()}
        for name in _RAW_MARKUP_FILTERS:
            self.filters[name] = functools.partial(_refuse_raw_markup, name)
        self.globals["range"] = self._range
        self.globals["lipsum"] = self._lipsum
        self.concat = self._bounded_concat  # type: ignore[method-assign]
        self.filters[_GUARD_ITERABLE] = pass_context(lambda _, iterable: self.guard_iterable(iterable))
        self.filters[_GUARD_SIZE] = pass_context(lambda _, value: self.guard_size(value))

    # -- counters -------------------------------------------------------------------------------

    def _check_time(self) -> None:
        if time.monotonic() > self._deadline:
            raise TemplateLimitError(f"生成时间超过 {self.limits.seconds:.0f} 秒，已停止（模板中可能有过大的循环）")

    def step(self) -> None:
        """One guarded operation (call, operator, filter): look at the clock now and then."""
        self._steps += 1
        if not self._steps % _TIME_EVERY:
            if self._steps > self.limits.operations:
                raise TemplateLimitError(
                    f"模板运算次数超过 {self.limits.operations:,} 次，已停止（宏或循环可能在反复调用自身）")
            self._check_time()

    def guard_size(self, value: Any) -> Any:
        if isinstance(value, _SIZED) and len(value) > self.limits.value_size:
            raise TemplateLimitError(f"模板生成的内容过大（{len(value):,} 个元素/字符）")
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _INT_BITS:
            raise TemplateLimitError("模板计算出的数字过大")
        return value

    def guard_iterable(self, iterable: Any) -> Iterator[Any]:
        """``iterable`` with every item counted against the iteration budget."""
        # Runs once per loop item of every notice: counters inline, the clock every 256 items.
        limit = self.limits.iterations
        for item in iterable:
            self._iterations += 1
            if not self._iterations % _TIME_EVERY:
                if self._iterations > limit:
                    raise TemplateLimitError(f"循环次数超过 {limit:,} 次，已停止（模板中可能有过大的循环）")
                self._check_time()
            yield item

    def output_exceeded(self) -> None:
        raise TemplateLimitError(
            f"生成的通报超过 {self.limits.output_chars // 2**20:,} M 字符，已停止（模板中可能有过大的循环）")

    def count_output(self, pieces: Iterable[str]) -> Iterator[str]:
        """``pieces`` of rendered output, counted against the output budget and the deadline."""
        limit = self.limits.output_chars
        for number, piece in enumerate(pieces, 1):
            self._output += len(piece)
            if self._output > limit:
                self.output_exceeded()
            if not number % _TIME_EVERY:
                self._check_time()
            yield piece

    def _bounded_concat(self, pieces: Iterable[str]) -> str:
        """Jinja's ``concat`` (every template, macro and block buffer is joined here)."""
        return "".join(self.count_output(pieces))

    # -- globals ------------------------------------------------------------------------------

    def _range(self, *args: int) -> range:
        numbers = range(*args)
        if len(numbers) > self.limits.range_size:
            raise TemplateLimitError(f"range() 过大（{len(numbers):,} 个数，最多 {self.limits.range_size:,}）")
        return numbers

    def _lipsum(self, n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
        if _number(n) > 100 or _number(max) > 1000:
            raise TemplateLimitError("lipsum() 参数过大")
        return generate_lorem_ipsum(n, html, min, max)

    # -- operators, calls, attributes ---------------------------------------------------------

    def call_binop(self, context, operator, left, right):
        self.step()
        if operator == "*":
            self._check_product(left, right)
        elif operator == "**":
            base, exponent = _number(left), _number(right)
            if base not in (0, 1, -1) and exponent * max(base.bit_length(), 1) > _INT_BITS:
                raise TemplateLimitError("模板计算出的数字过大（乘方）")
        elif operator == "%" and isinstance(left, str):
            _check_printf(left)
        return self.guard_size(super().call_binop(context, operator, left, right))

    def _check_product(self, left: Any, right: Any) -> None:
        if isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > _INT_BITS:
                raise TemplateLimitError("模板计算出的数字过大（乘法）")
            return
        for seq, times in ((left, right), (right, left)):
            if (isinstance(seq, _SIZED) and isinstance(times, int)
                    and len(seq) * max(times, 0) > self.limits.value_size):
                    raise TemplateLimitError(f"模板生成的内容过大（{len(seq):,} × {times:,}）")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # Called for every attribute a template reads: leave the common case at once.
        if getattr(value, "__name__", None) not in ("format", "format_map"):
            return None
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            _check_format_spec(fmt)
            return wrapped(*args, **kwargs)

        return functools.update_wrapper(checked, value)

    def call(__self, __context, __obj, *args, **kwargs):
        __self.step()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            __self._check_str_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
        # Macros and recursive loops call back through here: a depth far below Python's
        # recursion limit keeps the C stack small even in a watcher thread (1 MB on Windows).
        __self._depth += 1
        try:
            if __self._depth > _MAX_CALL_DEPTH:
                raise TemplateLimitError(f"模板递归过深（宏或循环调用自身超过 {_MAX_CALL_DEPTH} 层）")
            return __self.guard_size(super().call(__context, __obj, *args, **kwargs))
        finally:
            __self._depth -= 1

    def _check_str_method(self, text: str, name: str, args: tuple, kwargs: dict) -> None:
        first = args[0] if args else next(iter(kwargs.values()), None)
        size = 0
        if name in ("center", "ljust", "rjust", "zfill"):
            size = _number(first)
        elif name == "expandtabs":
            size = len(text) + text.count("\t") * _number(first if args or kwargs else 8)
        elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
            size = len(text) + (text.count(args[0]) if args[0] else len(text) + 1) * len(args[1])
        elif name == "join" and isinstance(first, (list, tuple)):
            size = _text_len(first) + len(text) * len(first)
        elif name == "join":
            raise TemplateLimitError("str.join 只能用于列表（请用 |join 过滤器）")
        if size > self.limits.value_size:
            raise TemplateLimitError(f"模板生成的内容过大（{name}，{size:,} 个字符）")

    # -- filters ------------------------------------------------------------------------------

    def _guarded_filter(self, name: str, function: Callable) -> Callable:
        check = _FILTER_CHECKS.get(name)

        materialize = name in _MATERIALIZED

        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            self.step()
            if check is not None:
                # Filters that take the environment or context get it first: skip it.
                skip = next((i for i, a in enumerate(args) if not _is_jinja_internal(a)), len(args))
                if materialize and skip < len(args) and not isinstance(args[skip], _SIZED):
                    # A generator (|map, |select …) becomes a list, so its size can be checked.
                    args = (*args[:skip], list(args[skip]), *args[skip + 1:])
                check(self, list(args[skip:]), kwargs)
            return self.guard_size(function(*args, **kwargs))

        return guarded


def _is_jinja_internal(value: Any) -> bool:
    return isinstance(value, (Environment, nodes.EvalContext, Context))


def _arg(values: list, kwargs: dict, index: int, key: str, default: Any = None) -> Any:
    if key in kwargs:
        return kwargs[key]
    return values[index] if len(values) > index else default


def _too_big(env: GuardedEnvironment, size: int, what: str) -> None:
    if size > env.limits.value_size:
        raise TemplateLimitError(f"模板生成的内容过大（{what}，{size:,} 个字符）")


def _check_center(env, values, kwargs):
    _too_big(env, _number(_arg(values, kwargs, 1, "width", 80)), "center")


def _check_indent(env, values, kwargs):
    text = _arg(values, kwargs, 0, "s", "")
    width = _arg(values, kwargs, 1, "width", 4)
    width = len(width) if isinstance(width, str) else _number(width)
    lines = str(text).count("\n") + 1
    _too_big(env, len(str(text)) + width * lines, "indent")


def _check_format(env, values, kwargs):
    fmt = _arg(values, kwargs, 0, "value", "")
    if isinstance(fmt, str):
        _check_printf(fmt)


def _check_join(env, values, kwargs):
    items = _arg(values, kwargs, 0, "value", ())
    glue = _arg(values, kwargs, 1, "d", "")
    if isinstance(items, (list, tuple)):
        _too_big(env, _text_len(items) + len(str(glue)) * len(items), "join")


def _check_replace(env, values, kwargs):
    text, old, new = (_arg(values, kwargs, i, k, "") for i, k in enumerate(("s", "old", "new")))
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        hits = text.count(old) if old else len(text) + 1
        _too_big(env, len(text) + hits * len(new), "replace")


def _check_slow_text(env, values, kwargs):
    text = _arg(values, kwargs, 0, "s", "")
    if isinstance(text, str) and len(text) > _SLOW_TEXT:
        raise TemplateLimitError(f"文字过长（{len(text):,} 个字符），不能用于此过滤器")


def _check_slice(env, values, kwargs):
    slices = _arg(values, kwargs, 1, "slices", 1)
    if _number(slices) > env.limits.range_size:
        raise TemplateLimitError("slice 的份数过大")


def _check_batch(env, values, kwargs):
    if _number(_arg(values, kwargs, 1, "linecount", 1)) > env.limits.value_size:
        raise TemplateLimitError("batch 的参数过大")


def _check_truncate(env, values, kwargs):
    _too_big(env, _number(_arg(values, kwargs, 1, "length", 255)), "truncate")


def _check_sum(env, values, kwargs):
    # sum(start=[]) concatenates: quadratic time and the whole result before any post-check.
    items = _arg(values, kwargs, 0, "iterable", ())
    start = _arg(values, kwargs, 2, "start", 0)
    if isinstance(start, _SIZED) and isinstance(items, (list, tuple)):
        _too_big(env, len(start) + sum(len(x) if isinstance(x, _SIZED) else 1 for x in items), "sum")


_MATERIALIZED = ("join", "sum")  # filters whose input is checked as a whole
_FILTER_CHECKS: dict[str, Callable[[GuardedEnvironment, list, dict], None]] = {
    "center": _check_center,
    "indent": _check_indent,
    "format": _check_format,
    "join": _check_join,
    "replace": _check_replace,
    "wordwrap": _check_slow_text,
    "striptags": _check_slow_text,
    "title": _check_slow_text,
    "slice": _check_slice,
    "batch": _check_batch,
    "truncate": _check_truncate,
    "sum": _check_sum,
}


# ---------------------------------------------------------------------------------------------
# Tags cut by a paragraph end
# ---------------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DELIMITER = re.compile(r"\{\{|\{%|\{#|\}\}|%\}|#\}")
_CLOSER = {"{{": "}}", "{%": "%}", "{#": "#}"}


def unbalanced_tags(element: etree._Element) -> str | None:
    """The first paragraph text whose ``{{ … }}`` or ``{% … %}`` is not closed in the same
    paragraph (or closes one never opened), as a Chinese message; None if all tags are
    whole. docxtpl glues the XML between a ``{{`` and the next ``}}`` away, so a tag left
    open would silently swallow the paragraphs up to the next one. A ``{# … #}`` comment
    may span paragraphs (commenting paragraphs out is what it is for)."""
    comment = False
    for number, paragraph in enumerate(element.iter(f"{_W}p"), 1):
        text = "".join(t.text or "" for t in paragraph.iter(f"{_W}t"))
        if not comment and "{" not in text and "}" not in text:
            continue
        opened: tuple[str, int] | None = None
        for match in _DELIMITER.finditer(text):
            token = match.group(0)
            if comment:
                comment = token != "#}"
            elif opened is None and token == "{#":
                comment = True
            elif opened is None and token in _CLOSER:
                opened = (token, match.start())
            elif opened is None and token in ("}}", "%}"):
                snippet = text[max(0, match.start() - 20): match.end()]
                return f"第 {number} 段“{snippet}”中的“{token}”前面没有对应的开始标记"
            elif opened is not None and token == _CLOSER[opened[0]]:
                opened = None
            elif opened is not None and token in _CLOSER:
                break  # a new tag opens inside an unfinished one: report the first
        if opened is not None:
            token, start = opened
            snippet = text[start: start + 30]
            return (f"第 {number} 段的“{snippet}”缺少结束标记“{_CLOSER[token]}”"
                    "（占位符须在同一段内写完整，如 {{ opening }}）")
    return None


# ---------------------------------------------------------------------------------------------
# Active content: what Word would fetch or run when the clerk opens the notice
# ---------------------------------------------------------------------------------------------

_DANGEROUS_FIELD = re.compile(
    r"\b(DDE|DDEAUTO|INCLUDETEXT|INCLUDEPICTURE|LINK|IMPORT|MACROBUTTON|DATABASE)\b", re.IGNORECASE)
_EMBEDDED_RELS = ("/oleObject", "/control", "/aFChunk", "/vbaProject", "/package")
_HYPERLINK_REL = "/hyperlink"


def active_content(part_rels: Iterable[tuple[str, str, bool]],
                   elements: Iterable[etree._Element]) -> str | None:
    """Why a template must not be used, or None: an external resource other than a hyperlink
    (a remote image, an attached template, a linked sub-document: Word fetches them when the
    notice is opened), an embedded object or macro, or a field that fetches or runs
    something (DDE, INCLUDETEXT, LINK …). ``part_rels`` is (reltype, target, is_external)."""
    for reltype, target, external in part_rels:
        if external and not reltype.endswith(_HYPERLINK_REL):
            return f"模板引用了外部资源（{target[:80]}），打开通报时会联网获取，出于安全原因拒绝使用"
        if not external and reltype.endswith(_EMBEDDED_RELS):
            return f"模板含有嵌入对象或宏（{reltype.rsplit('/', 1)[-1]}），出于安全原因拒绝使用"
    for element in elements:
        instructions = "".join(t.text or "" for t in element.iter(f"{_W}instrText"))
        instructions += " " + " ".join(f.get(f"{_W}instr", "") for f in element.iter(f"{_W}fldSimple"))
        match = _DANGEROUS_FIELD.search(instructions)
        if match:
            return f"模板含有会获取外部内容或运行程序的域（{match.group(1).upper()}），出于安全原因拒绝使用"
    return None


# ---------------------------------------------------------------------------------------------
# One line for the clerk
# ---------------------------------------------------------------------------------------------

_TAG_IN_TEXT = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")
_XML_TAG = re.compile(r"<[^>]+>")


def _template_line(exc: BaseException) -> int | None:
    """The template line of the innermost template frame in ``exc``'s traceback."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _raised_in_template(exc: BaseException) -> bool:
    return _template_line(exc) is not None


def _failing_tag(exc: BaseException, source: str | None) -> str:
    """The ``{{ … }}``/``{% … %}`` on the template line where ``exc`` was raised, or ""."""
    if source is None:
        return ""
    line = _template_line(exc)
    lines = source.splitlines()
    if line is None or not 0 < line <= len(lines):
        return ""
    text = _XML_TAG.sub("", lines[line - 1]).replace("&lt;", "<").replace("&gt;", ">") \
        .replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")
    tags = [t for t in _TAG_IN_TEXT.findall(text) if not re.fullmatch(r"\{%-?p?\s*end\w*\s*-?%\}", t)]
    return "、".join(f"“{t[:60]}”" for t in tags[:3])


def describe_failure(exc: BaseException, source: str | None = None) -> str | None:
    """A Chinese message for an exception raised while compiling or rendering a template,
    naming the failing tag where the traceback shows it; None for exceptions that are not
    the template's doing (they stay internal errors)."""
    if isinstance(exc, TemplateLimitError):
        reason = str(exc)
    elif isinstance(exc, TemplateSyntaxError):
        return f"模板语法错误（第 {exc.lineno} 段附近）：{exc.message}"
    elif isinstance(exc, UndefinedError):
        return None  # render.py names the placeholder
    elif isinstance(exc, SecurityError):
        reason = f"模板访问了不允许的内容（{exc}）"
    elif isinstance(exc, JinjaTemplateError):
        reason = f"模板无法渲染（{exc}）"
    elif isinstance(exc, SyntaxError):  # Python's own limits on the compiled template
        reason = f"模板的循环或条件嵌套层数太多，无法编译（{exc.msg}）"
    elif isinstance(exc, RecursionError):
        reason = "模板递归或嵌套过深（宏或循环在调用自身，或标记嵌套层数太多）"
    elif isinstance(exc, ZeroDivisionError):
        reason = "模板中的计算除以了零"
    elif isinstance(exc, MemoryError):
        reason = "模板生成的内容过大，内存不足"
    elif isinstance(exc, (TypeError, ValueError, ArithmeticError, LookupError, AttributeError)) \
            or _raised_in_template(exc):
        reason = f"模板中的计算出错（{type(exc).__name__}：{exc}）"
    else:
        return None
    where = _failing_tag(exc, source)
    return f"{where}处：{reason}" if where else reason

