"""The rule engine: named rules return cuts, the engine applies them and logs every removal.

A page is seen as normalised lines (one block element per line, as scrapers flatten pages) and
the rules run in a fixed order. A rule never deletes text directly: it returns *cuts* (a whole
line, or a span at the edge of a line), and :func:`strip_boilerplate` logs every cut as a
:class:`Removal` under the rule's name and version. That log is what lets an auditor trust the
cleaner: the kept text plus the removals account for every non-blank line of the input.

Rules register themselves with :func:`rule`; each family of rules is a module of this package.
When a rule's behaviour changes, its version changes: it goes into provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from thresher.patterns import Patterns, load_patterns
from thresher.text import normalize_lines


@dataclass(frozen=True)
class Line:
    """A kept line as a rule sees it: its number, its text, and where that text sits in the
    original normalised line (rules that trim a suffix shrink ``[start, end)``)."""

    idx: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Cut:
    """A rule's request to remove ``[start, end)`` of line ``idx`` (line-local offsets)."""

    idx: int
    start: int
    end: int


@dataclass(frozen=True)
class Removal:
    """A removed span, logged under the rule that removed it (``rule`` is ``name@version``).

    ``start``/``end`` are offsets in the normalised input (lines joined by ``\\n``), so the
    span can be shown in context and re-checked against the raw snapshot. ``score`` is set
    only by a model (the dump line model's probability that the line was article body); a
    named rule is sure, and leaves it None.
    """

    rule: str
    line: int
    start: int
    end: int
    text: str
    score: float | None = None


@dataclass
class RuleOutput:
    """What a rule returns: cuts, and metadata it moved out of the text (title, authors…)."""

    cuts: list[Cut] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def drop(self, line: Line) -> None:
        self.cuts.append(Cut(line.idx, line.start, line.end))


RuleFn = Callable[[Sequence[Line], Patterns], RuleOutput]


@dataclass(frozen=True)
class Rule:
    """A registered rule. ``group`` rules that sit next to each other run to a fixpoint."""

    name: str
    version: int
    fn: RuleFn
    group: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()


REGISTRY: dict[str, Rule] = {}


def rule(name: str, version: int = 1, group: str | None = None) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under ``name``; its docstring is its documentation."""

    def register(fn: RuleFn) -> RuleFn:
        if name in REGISTRY:
            raise ValueError(f"rule {name!r} registered twice")
        REGISTRY[name] = Rule(name, version, fn, group)
        return fn

    return register


def unknown_rules(names: Iterable[str]) -> list[str]:
    """The names in ``names`` that no rule is registered under (a config error, found at start)."""
    return [name for name in names if name not in REGISTRY]


def qualified_names(names: Iterable[str]) -> list[str]:
    """``name@version`` of each rule, as provenance records them."""
    return [REGISTRY[name].qualified for name in names]


@dataclass(frozen=True)
class Cleaned:
    """The outcome of the rules on one page: kept paragraphs, every removal, moved metadata."""

    paragraphs: tuple[str, ...]
    removals: tuple[Removal, ...]
    meta: dict
    kept: tuple[Line, ...] = ()  # where each paragraph sits in the normalised input

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


_LIST_META = ("authors", "credits")


def _merge_meta(into: dict, new: dict) -> None:
    for key, value in new.items():
        if key in _LIST_META:
            seen = into.setdefault(key, [])
            seen.extend(v for v in value if v not in seen)
        else:
            into.setdefault(key, value)


def _groups(rules: Sequence[Rule]) -> Iterable[list[Rule]]:
    run: list[Rule] = []
    for r in rules:
        if run and (r.group is None or r.group != run[-1].group):
            yield run
            run = []
        run.append(r)
    if run:
        yield run


def strip_boilerplate(text: str, rules: Sequence[str], patterns: Patterns | None = None) -> Cleaned:
    """Apply ``rules`` (names, in order) to ``text``; return the kept paragraphs and the removal log.

    Pure: the same text, rules and patterns always give the same result. Offsets in the log
    refer to the normalised input (``normalize_lines`` joined by newlines). ``patterns`` are
    the config's (``Config.patterns``); without them, the packaged tables.
    """
    p = patterns or load_patterns()
    raw_lines = normalize_lines(text)
    offsets = []
    pos = 0
    for ln in raw_lines:
        offsets.append(pos)
        pos += len(ln) + 1
    window = {i: (0, len(ln)) for i, ln in enumerate(raw_lines) if ln}
    removals: list[Removal] = []
    meta: dict = {}

    cache: list[list[Line] | None] = [None]

    def current() -> list[Line]:
        if cache[0] is not None:  # unchanged since the last rule: most rules remove nothing
            return cache[0]
        kept = []
        for i in sorted(window):
            s, e = window[i]
            piece = raw_lines[i][s:e]
            stripped = piece.strip()
            if stripped:
                lead = len(piece) - len(piece.lstrip())
                kept.append(Line(i, stripped, s + lead, s + lead + len(stripped)))
        cache[0] = kept
        return kept

    def apply(r: Rule) -> bool:
        result = r.fn(current(), p)
        changed = False
        for cut in sorted(set(result.cuts), key=lambda c: (c.idx, c.start)):
            s, e = window.get(cut.idx, (0, 0))
            start, end = max(cut.start, s), min(cut.end, e)
            if start >= end:
                continue
            removed = raw_lines[cut.idx][start:end]
            removals.append(Removal(r.qualified, cut.idx, offsets[cut.idx] + start, offsets[cut.idx] + end, removed))
            if start == s:
                s = end
            elif end == e:
                e = start
            else:
                raise ValueError(f"rule {r.qualified} cut the middle of line {cut.idx}")
            if raw_lines[cut.idx][s:e].strip():
                window[cut.idx] = (s, e)
            else:
                del window[cut.idx]
            changed = True
        if changed:
            cache[0] = None
        _merge_meta(meta, result.meta)
        return changed

    for group in _groups([REGISTRY[name] for name in rules]):
        if len(group) == 1:
            apply(group[0])
            continue
        for _ in range(20):  # a fixpoint group converges in a few rounds; bound it anyway
            if not any([apply(r) for r in group]):
                break
    removals.sort(key=lambda r: (r.start, r.end))
    kept = tuple(current())
    return Cleaned(tuple(line.text for line in kept), tuple(removals), meta, kept)
