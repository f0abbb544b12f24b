"""A parsed page as a sequence of text blocks, each with features a person can read.

This is the unit the HTML extractor decides on: one block is the text between two block-level
boundaries (a paragraph, a heading, a list item, a table cell, text broken by ``<br>``). For
each block we measure what the extraction literature found to separate an article from its
chrome (Kohlschütter's boilerpipe, Dragnet, Readability, jusText): how many words, how much of
it is link text, how dense it is, where it sits, which tags and class/id words surround it, how
much text its container holds, and whether the other candidate (trafilatura) kept it. The
selection model (:mod:`.selection`) turns these into a keep/drop decision per block.

One walk of the tree, no re-parsing, no copies: the tree is shared with the metadata reader
and the candidate extractors, and this is the cheap part of the page's cost.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import lxml.html
import numpy as np

# Elements that end one block and start another. Everything else (a, b, span, em, font, ...)
# is inline and adds its text to the current block.
BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption figure "
    "footer form frame frameset h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu nav noframes ol p pre "
    "section summary table tbody td tfoot th thead tr ul br caption legend option textarea".split()
)
# Never text a reader sees as the page's prose.
SKIP_TAGS = frozenset("script style noscript template head title select option button iframe svg math object embed canvas video audio map textarea input".split())
HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())

# Words of class and id attributes, grouped by what they say about a block. Looked up on the
# block's ancestors (nearest first); groups, not single words, so the model stays small and a
# site's own spelling ("storybody", "post-content") still counts through the substring match.
CLASS_GROUPS: dict[str, tuple[str, ...]] = {
    "cls_content": ("article", "content", "story", "body", "post", "entry", "text", "main", "blog", "news", "detail"),
    "cls_chrome": ("nav", "menu", "footer", "sidebar", "side", "widget", "banner", "header", "breadcrumb", "masthead",
                   "toolbar", "topbar", "skip", "pagination", "pager", "copyright", "legal", "cookie"),
    "cls_social": ("share", "social", "comment", "reply", "respond", "disqus", "login", "subscribe", "newsletter",
                   "signup", "follow", "rating", "vote"),
    "cls_related": ("related", "recommend", "more", "popular", "trending", "teaser", "promo", "sponsor", "ad-", "ads",
                    "advert", "outbrain", "taboola", "tag", "categor", "archive", "list"),
    "cls_meta": ("byline", "author", "date", "time", "caption", "credit", "meta", "dateline", "source", "photo"),
}
_GROUP_PATTERNS = {group: re.compile("|".join(map(re.escape, words))) for group, words in CLASS_GROUPS.items()}
# ``ad`` alone matches "header", "shadow", "read": only whole tokens count for it.
_AD_TOKEN = re.compile(r"(?:^|[\s_-])(?:ad|ads|advert|advertisement|sponsored)(?:$|[\s_-])")
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?。！？…\"'”»)]\s*$")
_PUNCT = re.compile(r"[.,;:!?。，、！？]")
ANCESTOR_DEPTH = 8  # class/id words further up than this say little about one block


@dataclass
class Block:
    """One text block of the page, in document order."""

    text: str
    words: int
    link_words: int
    tag: str  # the block-level element that holds the text
    element: lxml.html.HtmlElement = field(repr=False)
    ancestors: tuple[str, ...] = ()  # tags from the holder up to the root
    classes: str = ""  # class and id words of the holder and its nearest ancestors, lower-cased
    index: int = 0
    char_offset: int = 0  # characters of block text before this one
    path: tuple = ()  # the elements from the root down to the holder, as the walk met them


def _class_words(el: lxml.html.HtmlElement) -> str:
    value = f"{el.get('class') or ''} {el.get('id') or ''}".strip()
    return value.lower() if value else ""


class _Walker:
    """Collects blocks in one depth-first walk; inline text joins the open block.

    The path from the root to the current element is kept on a stack, so a block's ancestors
    and their class words are read from it instead of climbing the tree for every block."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.link_words = 0
        self.holder: lxml.html.HtmlElement | None = None
        self.holder_depth = -1  # the holder's index on the stack
        self.stack: list[list] = []  # [element, tag, class words or None when not read yet]
        self.offset = 0

    def flush(self) -> None:
        if not self.parts:
            return
        text = " ".join(" ".join(self.parts).split())
        self.parts = []
        links, self.link_words = self.link_words, 0
        if not text or not _WORD.search(text):
            return
        holder = self.holder
        path = self.stack[: self.holder_depth + 1]
        chain = tuple(entry[1] for entry in reversed(path))
        elements = tuple(entry[0] for entry in path) or (holder,)
        classes = []
        for entry in path[-1 : -ANCESTOR_DEPTH - 1 : -1]:
            if entry[2] is None:
                entry[2] = _class_words(entry[0])
            if entry[2]:
                classes.append(entry[2])
        n = len(text.split())
        self.blocks.append(
            Block(text, n, min(links, n), holder.tag if holder is not None else "body", holder, chain,
                  " | ".join(classes), len(self.blocks), self.offset, elements)
        )
        self.offset += len(text)

    def add(self, text: str | None, in_link: bool) -> None:
        if text and text.strip():
            self.parts.append(text)
            if in_link:
                self.link_words += len(text.split())

    def walk(self, el: lxml.html.HtmlElement, holder: lxml.html.HtmlElement, holder_depth: int, in_link: bool) -> None:
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions: only their tail is text
            self.add(el.tail, in_link)
            return
        low = tag.lower()
        if low in SKIP_TAGS:
            self.add(el.tail, in_link)
            return
        self.stack.append([el, tag, None])
        block = low in BLOCK_TAGS
        if block:
            self.flush()
            self.holder, self.holder_depth = el, len(self.stack) - 1
        link = in_link or low == "a"
        self.add(el.text, link)
        inner, inner_depth = (el, len(self.stack) - 1) if block else (holder, holder_depth)
        for child in el:
            self.walk(child, inner, inner_depth, link)
        if block:
            self.flush()
            self.holder, self.holder_depth = holder, holder_depth
        self.stack.pop()
        self.add(el.tail, in_link)


def page_blocks(tree: lxml.html.HtmlElement) -> list[Block]:
    """The page's text blocks in document order (hidden elements should be removed first)."""
    # From the root, not <body>: broken pages close </body> early and lxml puts the rest
    # beside it. <head> is skipped like a script.
    root = tree
    walker = _Walker()
    walker.holder, walker.holder_depth = root, 0
    try:
        walker.walk(root, root, 0, False)
    except RecursionError:  # pathological nesting: what was collected so far stands
        pass
    walker.flush()
    return walker.blocks


def tokens(text: str) -> list[str]:
    return _WORD.findall(text)


# --------------------------------------------------------------------------- features

_TAG_GROUPS = {"p": "tag_p", "li": "tag_li", "td": "tag_td", "th": "tag_td", "div": "tag_div", "br": "tag_br",
               "blockquote": "tag_quote", "pre": "tag_quote", "dd": "tag_li", "dt": "tag_li"}
for _h in HEADINGS:
    _TAG_GROUPS[_h] = "tag_h"
_ANCESTOR_FLAGS = {"a": "in_a", "nav": "in_nav", "header": "in_header", "footer": "in_footer", "aside": "in_aside",
                   "form": "in_form", "li": "in_li", "table": "in_table", "article": "in_article", "main": "in_main",
                   "figure": "in_figure", "figcaption": "in_figure"}

FEATURES: tuple[str, ...] = (
    "log_words", "link_density", "text_density", "punct_ratio", "sentence_end", "digit_ratio", "upper_start",
    "position", "char_position", "log_page_words", "word_share",
    "tag_p", "tag_li", "tag_td", "tag_div", "tag_br", "tag_quote", "tag_h", "tag_other",
    "in_a", "in_nav", "in_header", "in_footer", "in_aside", "in_form", "in_li", "in_table", "in_article", "in_main",
    "in_figure", "depth",
    *CLASS_GROUPS, "cls_ad",
    "prev_log_words", "prev_link_density", "next_log_words", "next_link_density",
    "prev2_log_words", "next2_log_words",
    "parent_log_words", "parent_link_density", "parent_blocks", "parent_share",
    "in_best_container", "container_share", "best_container_share",
    "title_overlap", "cand_overlap", "cand_empty", "cand_share",
    "stopword_density", "prev_cand_overlap", "next_cand_overlap", "window_cand_overlap", "window_link_density",
    "window_stopword_density",
)
WINDOW = 3  # blocks on each side for the window means


# jusText's signal: running prose is full of function words, chrome has few. One union of
# the stoplists jusText ships for the languages of most news sites, so no language has to be
# detected first; for languages outside the union the feature is uniformly low and the model
# leans on the others.
STOPLIST_LANGUAGES = ("English", "French", "German", "Spanish", "Italian", "Portuguese", "Dutch", "Swedish",
                      "Danish", "Norwegian_Bokmal", "Polish", "Czech", "Romanian", "Hungarian", "Finnish", "Turkish",
                      "Indonesian", "Vietnamese", "Russian")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    import justext

    words: set[str] = set()
    for lang in STOPLIST_LANGUAGES:
        try:
            words |= justext.get_stoplist(lang)
        except ValueError:  # a jusText release without this language
            continue
    return frozenset(w.casefold() for w in words)


def _container(block: Block) -> int:
    """Where in the block's path its words are counted (readability's parent): the holder's
    parent for a paragraph-like holder (a list item's list's parent), else the holder itself.
    An index into ``block.path``, so no element has to be looked up again."""
    last = len(block.path) - 1
    if block.tag in ("p", "br", "li", "dd", "dt", "pre", "blockquote", "span") or block.tag in HEADINGS:
        if block.tag == "li" and last >= 2:
            return last - 2  # list items count into the list's container
        return max(0, last - 1)
    return last


def block_features(blocks: list[Block], title: str | None, candidate: str | None) -> np.ndarray:
    """One feature row per block, in :data:`FEATURES` order.

    ``candidate`` is another extractor's text for the same page (trafilatura's): the share of a
    block's 4-word shingles found in it is the "agreement" feature. ``title`` is the page's
    headline from its metadata, so the headline block can be recognised (and moved to the
    record's title). What depends on one block's text is measured in Python; everything about
    positions, neighbours and windows is done on whole columns with numpy.
    """
    n = len(blocks)
    out = np.zeros((n, len(FEATURES)))
    if not n:
        return out
    col = {name: i for i, name in enumerate(FEATURES)}
    words = np.array([b.words for b in blocks], dtype=np.float64)
    links = np.array([b.link_words for b in blocks], dtype=np.float64)
    chars = np.array([len(b.text) for b in blocks], dtype=np.float64)
    offsets = np.array([b.char_offset for b in blocks], dtype=np.float64)
    page_words = float(words.sum()) or 1.0
    total_chars = float(chars.sum()) or 1.0
    # Readability's idea without its cost: words of prose-like blocks (not mostly links) count
    # into their container and half into the container's parent; the best container is where
    # the article most likely lives. Keyed by the elements themselves (held alive here, so lxml
    # keeps one proxy per element).
    containers: dict = {}
    score: dict = {}
    holders = []
    for b in blocks:
        at = _container(b)
        c = b.path[at]
        holders.append(c)
        entry = containers.setdefault(c, [c, 0, 0, 0])
        entry[1] += b.words
        entry[2] += b.link_words
        entry[3] += 1
        if b.words >= 8 and b.link_words < 0.3 * b.words:
            prose = b.words - b.link_words
            score[c] = score.get(c, 0.0) + prose
            if at > 0:
                gp = b.path[at - 1]
                containers.setdefault(gp, [gp, 0, 0, 0])
                score[gp] = score.get(gp, 0.0) + 0.5 * prose
    best_key = max(score, key=score.get) if score else None
    # A block is in the best container when the container is on its path (the path is the
    # walk's own record of the block's ancestors: no descendant of the container is visited).
    in_best = np.array([1.0 if best_key is not None and best_key in b.path else 0.0 for b in blocks])
    best_words = float((words * in_best).sum())
    title_toks = set(t.casefold() for t in tokens(title or ""))
    cand_tokens = tokens(candidate or "")
    cand_shingles = set(zip(cand_tokens, cand_tokens[1:], cand_tokens[2:], cand_tokens[3:]))
    cand_text = " " + " ".join(cand_tokens) + " "
    stop = stopwords()
    in_stop, in_cand = stop.__contains__, cand_shingles.__contains__
    casefold, isdigit = str.casefold, str.isdigit
    flag_tags = set(_ANCESTOR_FLAGS)
    # Per-block values go into Python lists and then into the array a column at a time: a
    # numpy scalar write per feature per block cost more than computing the features.
    columns: dict[str, list[float]] = {name: [] for name in (
        "punct_ratio", "sentence_end", "digit_ratio", "upper_start", "title_overlap", "cand_overlap",
        "stopword_density", "parent_log_words", "parent_link_density", "parent_blocks", "parent_share",
        "container_share", "depth")}
    ones_rows: list[int] = []  # (row, column) pairs of the 0/1 features set to 1
    ones_cols: list[int] = []
    class_flags: dict[str, tuple[int, ...]] = {}  # many blocks share their ancestors' class words
    for i, b in enumerate(blocks):  # what only the block's own text and markup can tell
        text = b.text
        toks = tokens(text)
        nt = len(toks) or 1
        columns["punct_ratio"].append(len(_PUNCT.findall(text)) / nt)
        columns["sentence_end"].append(1.0 if _SENTENCE_END.search(text) else 0.0)
        columns["digit_ratio"].append(sum(map(isdigit, toks)) / nt)
        columns["upper_start"].append(1.0 if text[:1].isupper() else 0.0)
        flags = [col[_TAG_GROUPS.get(b.tag, "tag_other")]]
        flags.extend(col[_ANCESTOR_FLAGS[tag]] for tag in flag_tags.intersection(b.ancestors))
        cls = b.classes
        if cls:
            found = class_flags.get(cls)
            if found is None:
                found = tuple(col[group] for group, pattern in _GROUP_PATTERNS.items() if pattern.search(cls))
                if _AD_TOKEN.search(cls):
                    found += (col["cls_ad"],)
                class_flags[cls] = found
            flags.extend(found)
        ones_rows.extend([i] * len(flags))
        ones_cols.extend(flags)
        if title_toks:
            bt = set(map(casefold, toks))
            columns["title_overlap"].append(len(bt & title_toks) / len(bt | title_toks) if bt else 0.0)
        else:
            columns["title_overlap"].append(0.0)
        if len(toks) >= 4:
            columns["cand_overlap"].append(sum(map(in_cand, zip(toks, toks[1:], toks[2:], toks[3:]))) / (len(toks) - 3))
        else:
            columns["cand_overlap"].append(1.0 if toks and (" " + " ".join(toks) + " ") in cand_text else 0.0)
        columns["stopword_density"].append(sum(map(in_stop, map(casefold, toks))) / nt if toks else 0.0)
        entry = containers[holders[i]]
        columns["parent_log_words"].append(math.log1p(entry[1]))
        columns["parent_link_density"].append(entry[2] / entry[1] if entry[1] else 0.0)
        columns["parent_blocks"].append(math.log1p(entry[3]))
        columns["parent_share"].append(entry[1] / page_words)
        columns["container_share"].append(score.get(holders[i], 0.0) / page_words)
        columns["depth"].append(min(len(b.ancestors), 40) / 40)
    for name, values in columns.items():
        out[:, col[name]] = values
    out[ones_rows, ones_cols] = 1.0
    density = np.divide(links, words, out=np.zeros(n), where=words > 0)
    log_words = np.log1p(words)
    out[:, col["log_words"]] = log_words
    out[:, col["link_density"]] = density
    out[:, col["text_density"]] = words / np.maximum(1.0, np.ceil(chars / 80))
    out[:, col["position"]] = np.arange(n) / n
    out[:, col["char_position"]] = offsets / total_chars
    out[:, col["log_page_words"]] = math.log1p(page_words)
    out[:, col["word_share"]] = words / page_words
    out[:, col["in_best_container"]] = in_best
    out[:, col["best_container_share"]] = best_words / page_words
    out[:, col["cand_empty"]] = 0.0 if cand_tokens else 1.0
    out[:, col["cand_share"]] = min(len(cand_tokens) / page_words, 2.0)
    # Neighbourhood: what the blocks around this one look like (a paragraph inside an article
    # is surrounded by paragraphs; a stray sentence in a menu by links).
    for name, values, step in (("prev_log_words", log_words, 1), ("next_log_words", log_words, -1),
                               ("prev2_log_words", log_words, 2), ("next2_log_words", log_words, -2),
                               ("prev_link_density", density, 1), ("next_link_density", density, -1),
                               ("prev_cand_overlap", out[:, col["cand_overlap"]], 1),
                               ("next_cand_overlap", out[:, col["cand_overlap"]], -1)):
        out[:, col[name]] = _shift(values, step)
    for name, source in (("window_cand_overlap", "cand_overlap"), ("window_link_density", "link_density"),
                         ("window_stopword_density", "stopword_density")):
        out[:, col[name]] = _window_mean(out[:, col[source]], WINDOW)
    return out


def _shift(values: np.ndarray, step: int) -> np.ndarray:
    """``values`` of the block ``step`` places before (after, when negative); 0 past the ends."""
    out = np.zeros_like(values)
    if step > 0:
        out[step:] = values[:-step]
    else:
        out[:step] = values[-step:]
    return out


def _window_mean(values: np.ndarray, width: int) -> np.ndarray:
    """Mean over the ``width`` blocks on each side, the block itself left out (itself when alone)."""
    n = len(values)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(n)
    lo, hi = np.maximum(0, idx - width), np.minimum(n, idx + width + 1)
    count = hi - lo - 1
    total = sums[hi] - sums[lo] - values
    return np.where(count > 0, total / np.maximum(count, 1), values)
