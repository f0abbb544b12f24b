"""HTML to article text and metadata: the extract stage for ``.html`` pages and WARC records.

trafilatura is the best open extractor, so it goes first; the work here is around it, where
measurement on our fixture pages showed it failing:

* hidden copies of the article (``display:none`` print/mobile versions, ``<noscript>``) are
  removed from the tree before extraction, or they are extracted twice;
* ``favor_precision`` sometimes keeps only part of the article (an ad row splits the body in
  two containers; a notice wins over the story). When its text is far shorter than the
  page's prose, a second extractor (readability's scoring, which merges sibling containers)
  runs, and its text wins if it is much longer and contains the first one;
* the text then goes through the same named rules as text dumps (teasers, "See more",
  captions, credits, end markers), each removal logged;
* metadata comes from the page's tags (:mod:`thresher.extract.meta`), read before extraction.

trafilatura's ``deduplicate`` option keeps a process-wide cache (output would depend on
which pages ran before), so it is always off: dedup is thresher's own stage.
"""

from __future__ import annotations

import logging
import re
import lxml.html
from lxml import etree

from thresher.rules import strip_boilerplate
from thresher.config import Config
from thresher.dates import parse_date
from thresher.sources.decode import decode_bytes
from thresher.extract.meta import HtmlMeta, read_meta
from thresher.extract.result import Extracted
from thresher.language import detect_language
from thresher.records import Reject
from thresher.text import containment, word_count

log = logging.getLogger(__name__)

TRAFILATURA = "trafilatura@2.3.1"
READABILITY = "readability@0.9"

# Rules that only make sense on a flattened whole page: on extracted HTML the title comes
# from the markup, and the extractor has already cut what sits above the headline.
DUMP_ONLY_RULES = {"leading_chrome", "headline", "byline_block"}

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)

# When favor_precision keeps less than this share of the page's prose, ask a second extractor.
FALLBACK_SHARE = 0.7
# The second extractor wins only with clearly more text that contains the first one's.
FALLBACK_GAIN = 1.25
FALLBACK_CONTAINS = 0.8


def sniff_charset(data: bytes) -> str | None:
    """The charset a ``<meta charset>`` or ``http-equiv`` tag declares in the first 4 KiB."""
    m = _META_CHARSET.search(data[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


# Control characters are never text in HTML, and lxml refuses them when a tree is edited.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def parse_tree(html: str) -> lxml.html.HtmlElement | None:
    """Parse (and repair) markup; None when there is no document in it at all."""
    html = _XML_INVALID.sub(" ", html)
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None
    return tree


def _hidden(el) -> bool:
    tag = el.tag.lower()
    if tag in {"noscript", "template", "script", "style"}:
        return True
    if el.get("hidden") is not None or (el.get("aria-hidden") == "true" and tag not in {"svg", "i", "span"}):
        return True
    style = el.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def remove_hidden(tree: lxml.html.HtmlElement) -> int:
    """Drop what a reader never sees: hidden duplicates, ``<noscript>``, templates, scripts.

    Done in place; returns how many elements went.
    """
    doomed = [el for el in tree.iter() if isinstance(el.tag, str) and _hidden(el)]
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()
    return len(doomed)


_INLINE = {"a", "b", "strong", "i", "em", "span", "u", "small", "sup", "sub", "abbr", "cite", "q", "mark", "time", "font", "br"}
_NOT_PROSE = {"nav", "header", "footer", "aside", "form", "button", "select", "figcaption", "ul", "ol"}


def prose_words(tree: lxml.html.HtmlElement) -> int:
    """Words of running text in the page: blocks (``<p>``, or a ``<div>`` holding text
    directly, as old and messy templates do) with ten words or more, mostly not links, outside
    menus, headers and footers. A cheap measure of the page's prose, against which an
    extractor's output is judged too short."""
    total = 0
    stack = [(tree, False)]
    while stack:  # one walk, pruning menus and footers instead of checking every ancestor
        el, _ = stack.pop()
        for child in el:
            if isinstance(child.tag, str) and child.tag not in _NOT_PROSE:
                stack.append((child, False))
        if el.tag in _INLINE:
            continue
        parts = [el.text or ""]
        linked = 0
        for child in el:
            if isinstance(child.tag, str) and child.tag in _INLINE:
                inner = child.text_content()
                parts.append(inner)
                if child.tag == "a":
                    linked += len(inner.split())
            parts.append(child.tail or "")
        n = len(" ".join(parts).split())
        if n >= 10 and linked < 0.5 * n:
            total += n
    return total


def _trafilatura(tree: lxml.html.HtmlElement, url: str | None):
    import trafilatura

    return trafilatura.bare_extraction(
        tree,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        with_metadata=False,  # read from the tags by extract.meta, at a fraction of the cost
        fast=True,
    )


def _readability(html: str) -> str:
    """The second extractor, on a fresh parse (trafilatura pruned the first tree). A failure
    of the fallback must not cost the page: it is logged and trafilatura's text stands."""
    from readability import Document

    tree = parse_tree(html)
    if tree is None:
        return ""
    remove_hidden(tree)
    try:
        summary = Document(lxml.html.tostring(tree, encoding="unicode")).summary(html_partial=True)
        body = lxml.html.fragment_fromstring(summary, create_parent="div")
    except Exception as exc:  # readability and lxml raise assorted errors on odd markup
        log.warning("readability fallback failed (%s: %s); keeping trafilatura's text", type(exc).__name__, str(exc)[:200])
        return ""
    blocks = []
    for el in body.iter("p", "h2", "h3", "h4", "li", "blockquote", "pre", "tr"):
        if el.tag == "p" and any(a.tag in {"li", "blockquote"} for a in el.iterancestors()):
            continue
        text = " ".join(el.text_content().split())
        if text:
            blocks.append(text)
    return "\n".join(blocks)


def extract_html(
    data: bytes, cfg: Config, url: str | None = None, http_charset: str | None = None
) -> tuple[Extracted, HtmlMeta] | Reject:
    """Main text and metadata of an HTML page, cleaned by the text rules; or why not."""
    decoded = decode_bytes(data, declared=http_charset or sniff_charset(data))
    if isinstance(decoded, Reject):
        return decoded
    tree = parse_tree(decoded.text)
    if tree is None:
        return Reject("no_content", "no HTML document could be parsed from the text")
    meta = read_meta(tree, cfg.patterns)  # first: the JSON-LD scripts go with the hidden elements
    remove_hidden(tree)
    prose = prose_words(tree)  # before trafilatura, which prunes the tree it is given
    doc = _trafilatura(tree, url)
    text = (doc.text if doc is not None else "") or ""
    extractor = TRAFILATURA
    if prose and (word_count(text) < FALLBACK_SHARE * prose or not text):
        alt = _readability(decoded.text)
        if word_count(alt) > FALLBACK_GAIN * word_count(text) and containment(text, alt) >= FALLBACK_CONTAINS:
            log.debug("readability fallback: %d words instead of %d", word_count(alt), word_count(text))
            text, extractor = alt, READABILITY
    rules = tuple(r for r in cfg.rules if r not in DUMP_ONLY_RULES)
    cleaned = strip_boilerplate(text, rules, cfg.patterns)
    n = word_count(cleaned.text)
    if n == 0 or n < cfg.min_words:
        return Reject("no_content", f"{n} words of article text found by {extractor}")
    # The language the page declares (<html lang>) is right on news sites far more often than
    # a guess from a few paragraphs, and free; detection is for pages that declare none.
    language = meta.language or detect_language(cleaned.text)
    found = cleaned.meta
    date_text = found.get("published_at_text")
    published = parse_date(meta.published, None) if meta.published else None
    if published is None and date_text:
        published = parse_date(date_text, language)
    authors = meta.authors or tuple(found.get("authors", ()))
    extracted = Extracted(
        text=cleaned.text,
        title=meta.title,
        authors=authors,
        credits=tuple(found.get("credits", ())),
        source_agency=found.get("source_agency"),
        published_at=published,
        language=language,
        encoding=decoded.encoding,
        extractor=extractor,
        removed=cleaned.removals,
    )
    return extracted, meta
