"""Bytes to text: the first thing every reader does, and where most bad input shows up.

Scrapers save pages in whatever encoding the site used, often without saying which, and
when they do say, they are sometimes wrong. The cascade is the one browsers follow, with one
lesson from real crawls on top:

1. a byte-order mark;
2. a charset the source declares: the HTTP/WARC header, then (HTML only) the XML declaration,
   then ``<meta charset>`` / ``http-equiv``;
3. but bytes that are valid UTF-8 and not plain ASCII are UTF-8 whatever a single-byte or
   legacy declaration says (pages declaring iso-8859-1 or gb2312 while serving UTF-8 exist in
   every crawl; the reverse, legacy bytes that happen to be valid UTF-8, is vanishingly rare);
4. detection (charset-normalizer) for the rest, where Western European text ends in
   windows-1252: detectors pick among equally plausible Latin code pages (cp1257, cp1250)
   almost at random on short pages, which turns "déjà" into "déją".

``latin-1``/``iso-8859-1``/``ascii`` labels are read as windows-1252, as every browser does
(the WHATWG Encoding standard): the bytes 0x80-0x9F are curly quotes and dashes in practice.

What was used, and which step chose it, is returned so the record can say so (``encoding``,
``encoding_source``). We do not use bs4's ``UnicodeDammit`` for this: it trusts a declaration
before trying UTF-8 (step 3 above is the point), and its detection is the same
charset-normalizer we call directly.
"""

from __future__ import annotations

import codecs
import re
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

_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
DECLARATION_WINDOW = 4096  # where browsers look for <meta charset> (the spec says 1024; real pages stray)

# Labels browsers read as windows-1252 (WHATWG Encoding standard).
_AS_CP1252 = {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1", "ascii", "us-ascii", "iso_8859-1", "cp819", "cp1252", "windows-1252"}
# Letters and punctuation of Western European languages outside ASCII: when nearly every
# non-ASCII character of a cp1252 reading is one of these, the text is cp1252.
# Left out on purpose: ¹ ² ³ ¼ ½ ¾ ¿ ¸ ´ ¨, which is what ą, ł, ż, ž... of cp1250 and cp1257
# pages turn into when read as cp1252.
_WESTERN = set("àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝœŒŸ"
               "’‘“”„«»–—…•€£¥©®°·§™¡\u00a0")
WESTERN_SHARE = 0.95
# In Western European languages most letters are ASCII; a Cyrillic or Greek page read as
# cp1252 is all accented Latin letters.
WESTERN_MAX_ACCENTED = 0.25


def declared_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of an HTTP Content-Type (``text/html; charset=ISO-8859-1``)."""
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


@dataclass(frozen=True)
class Decoded:
    """Text with the encoding that produced it (a Python codec name) and the step of the
    cascade that chose it: ``bom``, ``http``, ``xml``, ``meta``, ``utf-8`` (valid UTF-8 with no
    declaration, or beating a wrong one), ``ascii`` or ``detected``."""

    text: str
    encoding: str
    source: str = "utf-8"


def declared_charsets(data: bytes) -> list[tuple[str, str]]:
    """The charsets an HTML page declares about itself, in cascade order: the XML declaration,
    then ``<meta charset>``/``http-equiv``."""
    found = []
    m = _XML_DECL.match(data[:200])
    if m:
        found.append(("xml", m.group(1).decode("ascii", "replace")))
    m = _META_CHARSET.search(data[:DECLARATION_WINDOW])
    if m:
        found.append(("meta", m.group(1).decode("ascii", "replace")))
    return found


def _codec(label: str) -> str | None:
    label = label.strip().lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


# The same sets as byte tables, so that counting them is a C loop over the bytes (a Python loop
# over every character of a 300 kB page cost more than extracting it).
_HIGH = bytes(range(128, 256))
_ASCII = bytes(range(128))
_ASCII_NOT_LETTER = bytes(b for b in range(256) if not (b < 128 and chr(b).isalpha()))


def _cp1252_table(keep) -> bytes:
    """The high bytes whose cp1252 character does *not* satisfy ``keep`` (for bytes.translate's delete)."""
    out = []
    for b in _HIGH:
        try:
            c = bytes([b]).decode("cp1252")
        except UnicodeDecodeError:
            c = ""
        if not (c and keep(c)):
            out.append(b)
    return bytes(out) + _ASCII


_NOT_WESTERN = _cp1252_table(lambda c: c in _WESTERN)
_NOT_ALPHA = _cp1252_table(str.isalpha)


def _western(data: bytes) -> bool:
    """True when the bytes read as windows-1252 give Western European text."""
    high = data.translate(None, _ASCII)
    try:
        high.decode("cp1252")
    except UnicodeDecodeError:
        return False
    if not high or len(high.translate(None, _NOT_WESTERN)) < WESTERN_SHARE * len(high):
        return False
    accented = len(high.translate(None, _NOT_ALPHA))
    letters = accented + len(data.translate(None, _ASCII_NOT_LETTER))
    return accented <= WESTERN_MAX_ACCENTED * letters


# Legacy single-byte text almost never forms valid UTF-8 sequences ("é" is followed by a
# letter, not a continuation byte), so a page whose non-ASCII bytes are nearly all valid UTF-8
# is UTF-8 with a few stray bytes (a pasted ad, a truncated fetch): those become U+FFFD.
MOSTLY_UTF8 = 0.9


def _mostly_utf8(data: bytes, declared_utf8: bool) -> str | None:
    """The text when the bytes are UTF-8 with a few stray bytes; with a UTF-8 declaration,
    more valid sequences than stray bytes is enough."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", "ignore")) - bad  # non-ASCII characters, counted in C
    share = 0.5 if declared_utf8 else MOSTLY_UTF8
    return text if good >= 3 and good > share * (good + bad) else None


def decode_bytes(data: bytes, declared: str | None = None, html: bool = False) -> Decoded | Reject:
    """Decode ``data`` to text, or say why it cannot be read as text.

    ``declared`` is the charset of the HTTP/WARC header. With ``html`` the page's own
    declarations (XML declaration, ``<meta>``) are read too. A declaration is trusted only
    when the bytes decode cleanly with it, and never over valid UTF-8.
    """
    if not data.strip():
        return Reject("empty", "no bytes other than whitespace")
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(name), name.replace("-sig", ""), "bom")
            except UnicodeDecodeError as exc:
                return Reject("decode_error", f"{name} byte-order mark but invalid data: {exc}")
    sample = data[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL))  # one pass over the sample
    if sample.count(0) or controls > _MAX_CONTROL_RATIO * len(sample):
        return Reject("not_text", "binary content: NUL or control bytes in the first 64 KiB")
    if data.isascii():
        return Decoded(data.decode("ascii"), "utf-8", "ascii")
    try:
        return Decoded(data.decode("utf-8"), "utf-8", "utf-8")
    except UnicodeDecodeError:
        pass
    claims = [("http", declared)] if declared else []
    if html:
        claims += declared_charsets(data)
    mostly = _mostly_utf8(data, any(_codec(label) == "utf-8" for _, label in claims))
    if mostly is not None:
        return Decoded(mostly, "utf-8", "utf-8")
    for source, label in claims:
        name = _codec(label)
        if name is None or name.startswith(("utf-16", "utf-32")):  # utf-16 without a BOM: not these bytes
            continue
        try:
            return Decoded(data.decode(name), name, source)
        except UnicodeDecodeError:
            continue
    if _western(data):
        return Decoded(data.decode("cp1252"), "cp1252", "detected")
    matches = list(from_bytes(data))
    if not matches:
        return Reject("decode_error", "no encoding decodes these bytes as text")
    name = codecs.lookup(matches[0].encoding).name
    return Decoded(data.decode(name, errors="replace"), name, "detected")
