"""Bytes to text: the first thing every reader does, and where most bad input shows up.

Scrapers save pages in whatever encoding the site used, often without saying which. The order
here is cheapest-and-surest first: a byte-order mark, then strict UTF-8 (most of the web),
then a declared charset when the caller knows one, then detection with charset-normalizer.
Whatever was used is returned so that it can be recorded in the record's ``encoding``.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes

from thresher.records import Reject

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# A text file has (almost) no NUL bytes and few C0 controls; a binary blob saved as .txt has
# many. 1% keeps a stray control character in a real page from rejecting it.
_MAX_CONTROL_RATIO = 0.01
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def declared_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of an HTTP Content-Type (``text/html; charset=ISO-8859-1``)."""
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


@dataclass(frozen=True)
class Decoded:
    """Text with the encoding that produced it (a Python codec name)."""

    text: str
    encoding: str


def decode_bytes(data: bytes, declared: str | None = None) -> Decoded | Reject:
    """Decode ``data`` to text, or say why it cannot be read as text.

    ``declared`` is a charset named by the source (HTTP header, meta tag); it is trusted only
    when the bytes decode cleanly with it, because declarations are often wrong.
    """
    if not data.strip():
        return Reject("empty", "no bytes other than whitespace")
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(name), name.replace("-sig", ""))
            except UnicodeDecodeError as exc:
                return Reject("decode_error", f"{name} byte-order mark but invalid data: {exc}")
    sample = data[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL))  # one pass over the sample
    if sample.count(0) or controls > _MAX_CONTROL_RATIO * len(sample):
        return Reject("not_text", "binary content: NUL or control bytes in the first 64 KiB")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            name = codecs.lookup(declared).name
            return Decoded(data.decode(name), name)
        except (LookupError, UnicodeDecodeError):
            pass
    matches = list(from_bytes(data))
    if not matches:
        return Reject("decode_error", "no encoding decodes these bytes as text")
    best = matches[0]
    # Short Western pages look alike in every Latin code page and detection picks among the
    # equally plausible ones almost at random; windows-1252 is what such pages are in practice
    # (and what browsers assume for a latin-1 label), so it wins a tie.
    tie = [m for m in matches if m.chaos <= best.chaos and codecs.lookup(m.encoding).name == "cp1252"]
    name = codecs.lookup((tie[0] if tie else best).encoding).name
    return Decoded(data.decode(name, errors="replace"), name)
