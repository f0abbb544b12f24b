"""URLs as records hold them: the host of a page's URL names its site when nothing else does."""

from __future__ import annotations

from urllib.parse import urlsplit


def url_host(url: str | None) -> str | None:
    """The URL's host; None when there is no URL or it does not parse (``http://[x``)."""
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:
        return None
