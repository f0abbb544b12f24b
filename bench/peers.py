"""The peers ``make bench-extract`` puts beside thresher, each called as a user would call it on
the page's bytes: trafilatura in its three settings, readability-lxml and jusText.

Kept apart from :mod:`bench.extract` so that training and development scripts score the same
peers the same way (one definition of "what readability-lxml returns as text").
"""

from __future__ import annotations

from collections.abc import Callable

import lxml.html

_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr", "dd", "dt", "div", "td", "th", "br")


def html_to_lines(fragment: str) -> str:
    """An HTML fragment (readability's summary) as text, one line per block element."""
    if not fragment or not fragment.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # noqa: BLE001 - lxml raises assorted errors on odd fragments
        return ""
    for el in root.iter(*_BLOCKS):
        el.tail = "\n" + (el.tail or "")
        if el.tag != "br":
            el.text = "\n" + (el.text or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


def trafilatura_peer(**options) -> Callable[[bytes], str]:
    def run(data: bytes) -> str:
        import trafilatura

        return trafilatura.extract(data, include_comments=False, deduplicate=False, **options) or ""

    return run


def readability_peer(data: bytes) -> str:
    from readability import Document

    return html_to_lines(Document(data).summary(html_partial=True))


def justext_peer(data: bytes) -> str:
    import justext

    paragraphs = justext.justext(data, justext.get_stoplist("English"))
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


PEERS: dict[str, Callable[[bytes], str]] = {
    "trafilatura": trafilatura_peer(),
    "trafilatura precision": trafilatura_peer(favor_precision=True),
    "trafilatura recall": trafilatura_peer(favor_recall=True),
    "readability-lxml": readability_peer,
    "jusText": justext_peer,
}


def run_peer(name: str, data: bytes) -> str:
    """A peer's text for one page; a peer that raises scores as an empty text (as a user sees it)."""
    try:
        return PEERS[name](data)
    except Exception:  # noqa: BLE001 - any failure of a peer is an empty result for that page
        return ""
