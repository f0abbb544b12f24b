"""What an HTML page says about itself: title, authors, date, site, canonical URL, summary.

News pages publish this for search engines and social networks (Open Graph, JSON-LD
``NewsArticle``, ``<link rel=canonical>``, ``article:published_time``), so reading those tags
is both the most reliable source and cheap. trafilatura's own metadata pass reads the same
tags plus much we do not use (categories, tags, licence); measured on our fixture pages it
was a third of the cost of a page, so thresher reads the tags itself and calls htmldate (the
library trafilatura uses for dates) only when the tags give no date.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from thresher.patterns import Patterns
from thresher.rules.predicates import byline_names, person_names


@dataclass(frozen=True)
class HtmlMeta:
    """What the page's markup says about it (all optional)."""

    title: str | None = None
    authors: tuple[str, ...] = ()
    published: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    language: str | None = None


_TITLE_SPLIT = re.compile(r"\s+[|–—·•»]\s+|\s+-\s+")
_NEWS_TYPES = {"newsarticle", "article", "reportagenewsarticle", "blogposting", "analysisnewsarticle",
               "opinionnewsarticle", "liveblogposting", "webpage", "report"}


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def _meta(tree: lxml.html.HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = _clean(el.get("content"))
        if key and content and key not in found:
            found[key] = content
    return found


def _json_ld(tree: lxml.html.HtmlElement) -> list[dict]:
    """NewsArticle-like objects from JSON-LD scripts (also inside @graph and lists)."""
    objects: list[dict] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.append(item["@graph"])
                kinds = item.get("@type")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(isinstance(k, str) and k.lower() in _NEWS_TYPES for k in kinds):
                    objects.append(item)
    # Articles first: a WebPage object is only a fallback.
    return sorted(objects, key=lambda o: str(o.get("@type")).lower() == "webpage")


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in re.split(r",|;|\band\b", value) if v.strip()]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


def _title(meta: dict[str, str], ld: list[dict], tree: lxml.html.HtmlElement, site: str | None) -> str | None:
    for candidate in (meta.get("og:title"), meta.get("twitter:title"), *(_clean(o.get("headline")) for o in ld)):
        if candidate:
            return candidate
    h1 = next(tree.iter("h1"), None)
    if h1 is not None and _clean(h1.text_content()):
        return _clean(h1.text_content())
    title = tree.find(".//title")
    text = _clean(title.text_content()) if title is not None else None
    if text and site:  # "Story headline | Site Name" -> "Story headline"
        parts = _TITLE_SPLIT.split(text)
        if len(parts) > 1 and site.casefold() in parts[-1].casefold():
            text = " - ".join(parts[:-1]).strip() or text
    return text


def _published(meta: dict[str, str], ld: list[dict], tree: lxml.html.HtmlElement) -> str | None:
    for key in ("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
                "dc.date.issued", "dc.date", "date", "sailthru.date", "parsely-pub-date"):
        if meta.get(key):
            return meta[key]
    for obj in ld:
        if _clean(obj.get("datePublished")):
            return _clean(obj.get("datePublished"))
    for el in tree.iter("time"):
        if el.get("datetime"):
            return el.get("datetime")
    return None


def _htmldate(tree: lxml.html.HtmlElement) -> str | None:
    from htmldate import find_date  # the library trafilatura uses; only when the tags say nothing

    try:
        # extensive_search guesses from any date in the text: measured, it was wrong more
        # often than right on pages without date tags. No date beats a wrong one.
        return find_date(tree, extensive_search=False, original_date=True)
    except (ValueError, TypeError):
        return None


MAX_AUTHORS = 6
# One pass over the tree (a union of five paths walked it five times: a tenth of the page's
# cost). A class holding " byline " as a word also contains "byline".
_BYLINE_XPATH = etree.XPath(
    "//*[@itemprop='author' or @rel='author' or contains(@class, 'byline') or contains(@class, 'author-name')"
    " or contains(@class, 'author__name')]"
)


def _byline(tree: lxml.html.HtmlElement, p: Patterns) -> list[str]:
    """Names in the page's byline element, when no tag names the author."""
    found: list[str] = []
    for el in _BYLINE_XPATH(tree):
        names = byline_names(el.text_content(), p)
        if names and len(" ".join(names).split()) <= 12:
            found.extend(n for n in names if n not in found)
        if len(found) >= MAX_AUTHORS:
            break
    return found[:MAX_AUTHORS]


def read_meta(tree: lxml.html.HtmlElement, patterns: Patterns) -> HtmlMeta:
    """Metadata of a parsed page. Read before extraction: extractors prune the tree."""
    meta = _meta(tree)
    ld = _json_ld(tree)
    site = meta.get("og:site_name") or meta.get("application-name")
    if not site:
        site = next((n for o in ld for n in _names(o.get("publisher"))), None)
    authors = _names(meta.get("author")) or [n for o in ld[:1] for n in _names(o.get("author"))]
    if not authors and meta.get("article:author") and not meta["article:author"].startswith("http"):
        authors = _names(meta["article:author"])
    authors = person_names(authors, patterns) if authors else _byline(tree, patterns)
    canonical = None
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            canonical = link.get("href").strip()
            break
    lang = (tree.get("lang") or "").split("-")[0].lower() or None
    return HtmlMeta(
        title=_title(meta, ld, tree, site),
        authors=tuple(dict.fromkeys(a for a in authors if not a.startswith("http"))),
        published=_published(meta, ld, tree) or _htmldate(tree),
        site_name=site,
        canonical_url=canonical or meta.get("og:url"),
        description=meta.get("description") or meta.get("og:description") or meta.get("twitter:description"),
        language=lang if lang and len(lang) == 2 else None,
    )
