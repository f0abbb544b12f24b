"""HTML to article text and metadata: the extract stage for ``.html`` pages and WARC records.

The page is decoded (:mod:`thresher.sources.decode`), parsed once, and read for its metadata
(:mod:`thresher.extract.meta`); hidden copies of the article are removed. Then:

* the page becomes a sequence of text blocks with explainable features (:mod:`.blocks`);
* a second candidate body comes from trafilatura (``fast`` mode, on a copy of the same tree):
  whether it kept a block is one of the block's features ("agreement between candidates");
* a small model learned from the train split of real pages with gold bodies
  (:mod:`.selection`) keeps or drops each block. Inline links stay inside their
  sentence: a block is kept or dropped whole, so link text is never cut mid-sentence;
* never a silent catastrophe: when the model keeps less than a body on a page with real
  prose, trafilatura's blocks are taken instead, and a page whose best body is still too
  short is a ``too_short`` reject with the figures, not a 2-word article;
* every dropped block is logged in ``removed`` under ``extract@<model version>``, the
  headline moves to ``title``, and the few named text rules that measured as helpful on real
  pages (:data:`HTML_RULES`) run on what is left.

trafilatura's ``deduplicate`` option keeps a process-wide cache (output would depend on
which pages ran before), so it is always off: dedup is thresher's own stage.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import lxml.html
import numpy as np
from lxml import etree

from thresher.config import Config
from thresher.dates import parse_date
from thresher.extract.blocks import FEATURES, Block, block_features, page_blocks, tokens
from thresher.extract.meta import HtmlMeta, read_meta
from thresher.extract.result import Extracted
from thresher.extract.selection import SelectionModel, load_model
from thresher.extract.timelimit import PageTimeout, time_limit
from thresher.language import detect_language
from thresher.patterns import Patterns
from thresher.records import Reject
from thresher.rules import REGISTRY, Removal, strip_boilerplate
from thresher.sources.decode import Decoded, declared_charsets, decode_bytes
from thresher.text import word_count

log = logging.getLogger(__name__)

TRAFILATURA = "trafilatura@2.3.1"

# The text rules that run on the kept blocks: only those whose removals were mostly chaff on
# the train split's real pages (words removed that are not in the gold body against words that
# are, after the model's selection; bench figures in docs/extraction.md). The others (bylines,
# date lines, captions, teasers, tail links, site chrome...) removed more of the gold body than
# of the chaff once the model has chosen the blocks, so on HTML they do not run; the page's
# metadata comes from its markup instead.
HTML_RULES = frozenset({"breadcrumb", "footer", "image_residue"})

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)

# Never a silent catastrophe: when the model keeps less than a body (MIN_BODY_WORDS) on a page
# with at least this many times as much prose, trafilatura's blocks are taken. Wider guards
# (any body under 5%-30% of the prose, or the densest container as the other candidate) all
# lowered cross-validated F1 on the train split: on news pages with long comment threads the
# prose is mostly comments, and the model's short body is the right one (docs/extraction.md).
GUARD_PROSE = 3
# A body shorter than this (words; CJK characters count half) is no article. Real gold bodies
# of 4 to 12 words exist in the dev sets (a photo page, a one-line notice), so the floor is
# low: it is there for the two-word "Entermedia 주요뉴스" pages, not to judge length.
MIN_BODY_WORDS = 5
EXTRACT_RULE = "extract"  # removals are logged as extract@<model version>
EXTRACT_DOC = ("Blocks of an HTML page that the selection model (learned from real pages with gold bodies) "
               "judged not to be the article: menus, link lists, comments, footers, teasers.")
REMOVED_CHARS = 200  # a dropped block is logged with its text up to this length


def sniff_charset(data: bytes) -> str | None:
    """The charset the page itself declares (XML declaration, then ``<meta>``), if any."""
    found = declared_charsets(data)
    return found[0][1] if found else None


# Control characters are never text in HTML, and lxml refuses them when a tree is edited.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def parse_tree(html: str) -> lxml.html.HtmlElement | None:
    """Parse (and repair) decoded markup; None when there is no document in it at all.

    The XML declaration goes first: the text is already decoded, and lxml refuses a ``str``
    that still declares an encoding (XHTML pages start with one)."""
    html = _XML_INVALID.sub(" ", _XML_DECLARATION.sub("", html, count=1))
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


# One walk of the tree (a union of seven paths walked it seven times).
_MAYBE_HIDDEN = etree.XPath("//*[self::noscript or self::template or self::script or self::style or @hidden"
                            " or @aria-hidden or @style]")


def _hidden(el) -> bool:
    tag = el.tag.lower()
    if tag in {"noscript", "template", "script", "style"}:
        return True
    if el.get("hidden") is not None or (el.get("aria-hidden") == "true" and tag not in {"svg", "i", "span"}):
        return True
    style = el.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


# A <noscript> holding more than this share of the page's words is not a fallback notice: it is
# the page, swallowed by an unclosed <noscript> (seen in the dev sets). Other hidden elements
# that large are hidden menus and headers (measured: none of their text is in the gold bodies).
HIDDEN_MAX_SHARE = 0.5
HIDDEN_MIN_WORDS = 50  # ...and is long enough to be an article


def remove_hidden(tree: lxml.html.HtmlElement) -> int:
    """Drop what a reader never sees: hidden duplicates, ``<noscript>``, templates, scripts.

    Done in place; returns how many elements went.
    """
    # XPath finds the few elements worth a look in C; _hidden decides (document order kept).
    doomed = [el for el in _MAYBE_HIDDEN(tree) if isinstance(el.tag, str) and _hidden(el)]
    total = None
    gone = 0
    for el in doomed:
        if el.getparent() is None:
            continue
        if el.tag == "noscript":
            if total is None:
                total = len(tree.text_content().split()) or 1
            words = len(el.text_content().split())
            if words >= HIDDEN_MIN_WORDS and words > HIDDEN_MAX_SHARE * total:
                continue
        el.drop_tree()
        gone += 1
    return gone


def prose_words(blocks: list[Block]) -> int:
    """Words of running text on the page: blocks of ten words or more that are mostly not
    links, outside menus, headers and footers. What an article body is judged too short
    against."""
    total = 0
    for b in blocks:
        if b.words >= 10 and b.link_words < 0.5 * b.words and not {"nav", "footer", "header"} & set(b.ancestors):
            total += b.words
    return total


def trafilatura_text(tree: lxml.html.HtmlElement, url: str | None) -> str:
    """trafilatura's body for the page. trafilatura prunes a copy of the tree it is given (it
    copies a tree passed to it before touching it), so the tree stays whole for the blocks.
    A failure of trafilatura costs only this candidate: it is logged and the page goes on."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            tree, url=url, include_comments=False, include_tables=True,
            deduplicate=False, with_metadata=False, fast=True,
        )
    except Exception as exc:  # noqa: BLE001 - trafilatura raises assorted errors on odd markup
        log.warning("trafilatura failed (%s: %s); its candidate is empty", type(exc).__name__, str(exc)[:200])
        return ""
    return (doc.text if doc is not None else "") or ""


@dataclass
class PageAnalysis:
    """A page read once: what both the extractor and the training script need."""

    decoded: Decoded
    meta: HtmlMeta
    blocks: list[Block]
    candidate: str  # trafilatura's body, or "" when the model does not use it
    features: np.ndarray  # one row per block, in the model's feature order


def analyse_page(data: bytes, model: SelectionModel, patterns: Patterns, url: str | None = None,
                 http_charset: str | None = None) -> PageAnalysis | Reject:
    """Decode, parse once, read the metadata, cut the page into blocks and measure them."""
    decoded = decode_bytes(data, declared=http_charset, html=True)
    if isinstance(decoded, Reject):
        return decoded
    tree = parse_tree(decoded.text)
    if tree is None:
        return Reject("no_content", "no HTML document could be parsed from the text")
    meta = read_meta(tree, patterns)  # first: the JSON-LD scripts go with the hidden elements
    remove_hidden(tree)
    blocks = page_blocks(tree)
    candidate = trafilatura_text(tree, url) if "cand_overlap" in model.features and blocks else ""
    X = block_features(blocks, meta.title, candidate)
    if tuple(model.features) != FEATURES:
        X = X[:, [FEATURES.index(f) for f in model.features]]
    return PageAnalysis(decoded, meta, blocks, candidate, X)


# --------------------------------------------------------------------------- selection

_MOJIBAKE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u2010-\u203a\u0152-\u017e\u02c6\u02dc\u20ac\u2122]")


def repair_mojibake(text: str) -> tuple[str, bool]:
    """UTF-8 read as cp1252 somewhere upstream ("cafÃ©") repaired by ftfy; and whether it was.
    A cheap pattern test first: ftfy on every page would cost more than the extraction."""
    if not text or not _MOJIBAKE.search(text):
        return text, False
    import ftfy

    fixed = ftfy.fix_encoding(text)
    return fixed, fixed != text


@dataclass(frozen=True)
class Selection:
    """The blocks kept as the article, and which path chose them."""

    keep: tuple[bool, ...]
    how: str  # "model", or "trafilatura" when the guard took its blocks
    kept_words: int
    prose_words: int


def select_blocks(page: PageAnalysis, model: SelectionModel) -> Selection:
    """Keep the blocks the model gives at least its threshold. When that is under the minimum
    body length on a page with real prose (at least :data:`GUARD_PROSE` times as many words),
    trafilatura's blocks are taken instead, if they hold more words."""
    blocks = page.blocks
    probs = model.probability(page.features)
    keep = [bool(p >= model.threshold) for p in probs]
    words = sum(b.words for b, k in zip(blocks, keep) if k)
    prose = prose_words(blocks)
    how = "model"
    if words < MIN_BODY_WORDS and prose >= GUARD_PROSE * MIN_BODY_WORDS and "cand_overlap" in model.features:
        agree = page.features[:, list(model.features).index("cand_overlap")]
        alt = [bool(c >= 0.5) for c in agree]
        alt_words = sum(b.words for b, k in zip(blocks, alt) if k)
        if alt_words > words:
            keep, words, how = alt, alt_words, "trafilatura"
    return Selection(tuple(keep), how, words, prose)


def _headline(blocks: list[Block], keep: tuple[bool, ...], title: str | None) -> int | None:
    """Index of the kept block that is the headline: before the first paragraph of prose, the
    page's title (from its metadata), or its ``<h1>`` when the metadata has none."""
    want = {t.casefold() for t in tokens(title or "")}
    for i, (b, k) in enumerate(zip(blocks, keep)):
        if not k:
            continue
        if b.words >= 25:
            return None
        have = {t.casefold() for t in tokens(b.text)}
        if want and have and len(have & want) >= 0.6 * len(have | want):
            return i
        if not want and b.tag == "h1":
            return i
    return None


def _removals(blocks: list[Block], keep: tuple[bool, ...], rule: str, headline: int | None) -> list[Removal]:
    """One entry per dropped block, offsets into the page's blocks joined by newlines."""
    out = []
    for i, (b, k) in enumerate(zip(blocks, keep)):
        if k and i != headline:
            continue
        start = b.char_offset + b.index
        name = REGISTRY["headline"].qualified if i == headline else rule
        text = b.text if i == headline else b.text[:REMOVED_CHARS]
        out.append(Removal(name, b.index, start, start + len(b.text), text))
    return out


def extract_html(
    data: bytes, cfg: Config, url: str | None = None, http_charset: str | None = None
) -> tuple[Extracted, HtmlMeta] | Reject:
    """Main text and metadata of an HTML page, cleaned by the text rules; or why not."""
    try:
        with time_limit(cfg.page_timeout):
            return _extract(data, cfg, url, http_charset)
    except PageTimeout as exc:
        return Reject("timeout", str(exc))


def _extract(data: bytes, cfg: Config, url: str | None, http_charset: str | None) -> tuple[Extracted, HtmlMeta] | Reject:
    model = load_model()
    page = analyse_page(data, model, cfg.patterns, url, http_charset)
    if isinstance(page, Reject):
        return page
    meta, blocks = page.meta, page.blocks
    chosen = select_blocks(page, model)
    extractor = f"extract@{model.version}"
    if chosen.how != "model":
        extractor += f"+{chosen.how}"
    head = _headline(blocks, chosen.keep, meta.title)
    title = meta.title or (blocks[head].text if head is not None else None)
    body = "\n".join(b.text for i, (b, k) in enumerate(zip(blocks, chosen.keep)) if k and i != head)
    body, repaired = repair_mojibake(body)
    if title:
        title, title_repaired = repair_mojibake(title)
        repaired = repaired or title_repaired
    dropped = _removals(blocks, chosen.keep, f"extract@{model.version}", head)
    rules = tuple(r for r in cfg.rules if r in HTML_RULES)
    cleaned = strip_boilerplate(body, rules, cfg.patterns)
    n = word_count(cleaned.text)
    if n == 0:
        return Reject("no_content", f"no article text on the page ({chosen.prose_words} words of prose, "
                                    f"{len(blocks)} text blocks, {chosen.kept_words} words kept by {extractor})")
    if n < max(cfg.min_words, MIN_BODY_WORDS):
        return Reject("too_short", f"{n} words of article text ({chosen.kept_words} words chosen by {extractor} "
                                   f"out of {chosen.prose_words} words of prose on the page; the minimum is {max(cfg.min_words, MIN_BODY_WORDS)})")
    # The language the page declares (<html lang>) is right on news sites far more often than
    # a guess from a few paragraphs, and free; detection is for pages that declare none.
    language = meta.language or detect_language(cleaned.text)
    found = cleaned.meta
    date_text = found.get("published_at_text")
    published = parse_date(meta.published, None) if meta.published else None
    if published is None and date_text:
        published = parse_date(date_text, language)
    authors = meta.authors or tuple(found.get("authors", ()))
    source = page.decoded.source + ("+ftfy" if repaired else "")
    extracted = Extracted(
        text=cleaned.text,
        title=title,
        authors=authors,
        credits=tuple(found.get("credits", ())),
        source_agency=found.get("source_agency"),
        published_at=published,
        language=language,
        encoding=page.decoded.encoding,
        extractor=extractor,
        removed=tuple(dropped) + cleaned.removals,
        encoding_source=source,
    )
    return extracted, meta
