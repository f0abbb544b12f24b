"""Text dumps made from the real dev pages, each line labelled from the page's gold body: the
training and test data of the dump line model (issue 19).

A scraper that leaves a text dump flattens a page roughly like this: the visible text, one
line per block element, scripts and styles dropped, navigation, teasers, comments and footers
kept. :func:`flatten_html` does that with beautifulsoup4 (on lxml), so the dumps the model
learns from look like the ones it meets in ``raw/``.

:func:`label_lines` marks each line body (1) or chaff (0) by aligning the dump's word tokens
with the gold's (``difflib`` on the token sequences, longest matches first, so the headline in
the body is matched and its copy in a breadcrumb is not): a line is body when at least half
of its tokens align with gold tokens. How good that rule is shows as the ``oracle`` row of
``make bench-quality`` (the labelled body lines scored against the gold like any system).

The pages stay outside the repository (licences); the flattened, labelled pages are cached
under ``$THRESHER_CACHE`` (default ``.cache/dumps`` in the checkout, ignored by git) as one
JSON-lines file per set, keyed by the page and this module's :data:`VERSION`.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.devsets import ROOT, DevPage, load_pages
from thresher.text import normalize_line

VERSION = 2  # bump when flattening or labelling changes: the cache is keyed by it

# Elements whose start and end break the line, as browsers lay them out (and scrapers follow).
BLOCK = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption "
    "figure footer form frameset h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main menu nav ol p "
    "pre section summary table tbody td tfoot th thead tr ul caption option".split()
)
# Never visible text: code, styles, the document head, embedded objects.
INVISIBLE = frozenset("script style noscript template head svg math object embed iframe canvas audio video map".split())
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"\w+", re.UNICODE)
LABEL_SHARE = 0.5  # a line is body when at least this share of its tokens align with gold


def _decode(data: bytes) -> str | None:
    """UTF-8 first (pages that are UTF-8 but declare another charset exist), else None and
    beautifulsoup decides from the declared charset."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _hidden(tag) -> bool:
    attrs = tag.attrs or {}
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    style = attrs.get("style")
    return bool(style and _HIDDEN_STYLE.search(str(style)))


def flatten_html(data: bytes) -> list[str]:
    """The visible text of an HTML page, one line per block element, as a scraper dumps it.

    Iterative (news pages nest deeper than Python's recursion limit). Lines are whitespace-
    normalised as the cleaner normalises (:func:`thresher.text.normalize_line`) and never
    empty, so line ``i`` here is non-blank line ``i`` of the dump as the cleaner reads it.
    """
    from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, ProcessingInstruction, Declaration, CData, Tag

    text = _decode(data)
    soup = BeautifulSoup(text if text is not None else data, "lxml")
    lines: list[str] = []
    buf: list[str] = []

    def brk() -> None:
        if buf:
            line = normalize_line("".join(buf))
            if line:
                lines.append(line)
            buf.clear()

    skip = (Comment, Doctype, ProcessingInstruction, Declaration, CData)
    stack: list = [(soup, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            brk()
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, skip):
                buf.append(str(node))
            continue
        if not isinstance(node, Tag):
            continue
        name = (node.name or "").lower()
        if name in INVISIBLE or (name != "[document]" and _hidden(node)):
            continue
        if name == "br":
            brk()
            continue
        block = name in BLOCK
        if block:
            brk()
            stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    brk()
    return lines


def label_lines(lines: list[str], gold: str) -> list[int]:
    """1 for each dump line that belongs to the gold body, 0 for chaff (see module docstring)."""
    toks: list[str] = []
    owner: list[int] = []
    for i, line in enumerate(lines):
        for t in _TOKEN.findall(line):
            toks.append(t.casefold())
            owner.append(i)
    gold_toks = [t.casefold() for t in _TOKEN.findall(gold)]
    hit = [0] * len(lines)
    matcher = difflib.SequenceMatcher(None, toks, gold_toks, autojunk=False)
    for a, _, size in matcher.get_matching_blocks():
        for k in range(a, a + size):
            hit[owner[k]] += 1
    sizes = [0] * len(lines)
    for i in owner:
        sizes[i] += 1
    return [int(sizes[i] > 0 and hit[i] >= LABEL_SHARE * sizes[i]) for i in range(len(lines))]


@dataclass(frozen=True)
class DumpPage:
    """A dev page as a text dump: its lines, each line's label, and its gold body."""

    dataset: str
    page_id: str
    split: str
    lines: tuple[str, ...]
    labels: tuple[int, ...]
    gold: str

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.page_id}"

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def cache_dir() -> Path:
    env = os.environ.get("THRESHER_CACHE")
    return Path(env) if env else ROOT / ".cache" / "dumps"


def make_dump(page: DevPage) -> DumpPage:
    lines = flatten_html(page.html())
    return DumpPage(page.dataset, page.page_id, page.split, tuple(lines), tuple(label_lines(lines, page.gold)), page.gold)


def _cache_file(dataset: str) -> Path:
    return cache_dir() / f"dumps-v{VERSION}-{dataset}.jsonl"


def _fingerprint(page: DevPage) -> str:
    return hashlib.sha256(page.path.read_bytes() + page.gold.encode("utf-8")).hexdigest()[:16]


def load_dumps(sets: Iterable[str] | None = None, split: str | None = None) -> list[DumpPage]:
    """Every dev page of ``sets`` as a labelled dump (``split`` alone if given), from the cache
    where it is fresh, else flattened and labelled now (and cached)."""
    from bench.devsets import SETS

    out: list[DumpPage] = []
    for name in sets or SETS:
        pages = load_pages([name])
        if not pages:
            continue
        path = _cache_file(name)
        cached: dict[str, dict] = {}
        if path.is_file():
            for row in map(json.loads, path.read_text(encoding="utf-8").splitlines()):
                cached[row["page_id"]] = row
        rows, dirty = [], False
        for page in pages:
            fp = _fingerprint(page)
            row = cached.get(page.page_id)
            if row is None or row["fp"] != fp:
                d = make_dump(page)
                row = {"page_id": page.page_id, "fp": fp, "lines": list(d.lines), "labels": list(d.labels)}
                dirty = True
            rows.append(row)
            if split is None or page.split == split:
                out.append(DumpPage(name, page.page_id, page.split, tuple(row["lines"]), tuple(row["labels"]), page.gold))
        if dirty:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
            tmp.replace(path)
    return out


def iter_sets(pages: Iterable[DumpPage]) -> Iterator[tuple[str, list[DumpPage]]]:
    from bench.devsets import SETS

    pages = list(pages)
    for name in SETS:
        group = [p for p in pages if p.dataset == name]
        if group:
            yield name, group


if __name__ == "__main__":  # build the cache: python -m bench.dumpdata
    dumps = load_dumps()
    print(f"{len(dumps)} dumps cached under {cache_dir()}")
