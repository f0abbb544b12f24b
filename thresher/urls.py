"""URLs as records hold them: the host of a page's URL names its site when nothing else does."""

from __future__ import annotations

from urllib.parse import urlsplit


def url_host(url: str | None) -> str | None:
    """The URL's host; None when there is no URL or it does not parse (``http://[x``)."""
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:
        return None


# Query parameters that say how a reader arrived, not which page they asked for: a page fetched
# with any of them is the page fetched without them. Exact names, then prefixes.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid", "ocid", "cmpid", "smid",
    "ref", "ref_src", "_ga", "_gl", "amp", "outputtype",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_", "ns_")


def url_key(url: str | None) -> str | None:
    """What makes two fetches *the same page*: host without ``www.``, path without a trailing
    slash, and the query minus tracking parameters (sorted); scheme, case of the host,
    fragment and default ports ignored. None for a missing or unparsable URL.

    Re-fetches of one story arrive as ``http://`` and ``https://``, with and without ``www.``,
    with ``utm_source`` or ``fbclid`` appended: all one key. A parameter that may choose the
    article (``?id=123``, ``?p=42``) stays in the key, so two articles served by one script stay
    apart.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    host = host[4:] if host.startswith("www.") else host
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/") or "/"
    query = []
    for pair in parts.query.split("&"):
        name = pair.split("=", 1)[0].lower()
        if pair and name not in TRACKING_PARAMS and not name.startswith(TRACKING_PREFIXES):
            query.append(pair)
    return host + path + ("?" + "&".join(sorted(query)) if query else "")
