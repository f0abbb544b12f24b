"""Bytes to text in whatever encoding a site used, and a clear reason when it is not text."""

from __future__ import annotations

import codecs

import pytest

from thresher.sources.decode import Decoded, decode_bytes
from thresher.records import Reject

TEXT = "Le député a déclaré « c’est inacceptable » — Straße, São Paulo, Hà Nội.\n"


@pytest.mark.parametrize(
    "data, encoding",
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("utf-16"), "utf-16"),
        ("Le député a déclaré « ceci » à Genève, São Paulo et Zürich.\n".encode("cp1252"), "cp1252"),
        ("Le député a déclaré « ceci » à Genève.\n".encode("iso-8859-1"), "cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "cp1252", "latin1-read-as-cp1252"],
)
def test_decodes_and_records_encoding(data, encoding):
    out = decode_bytes(data)
    assert isinstance(out, Decoded)
    assert out.encoding == encoding
    assert "député" in out.text and "«" in out.text


def test_declared_charset_is_used_when_it_fits():
    # a latin-1 label is read as windows-1252, as browsers do (0x80-0x9F are quotes and dashes)
    out = decode_bytes("Über die Brücke – „Zeitung“".encode("cp1252"), declared="iso-8859-1")
    assert out == Decoded("Über die Brücke – „Zeitung“", "cp1252", "http")


FRENCH = "Les commerçants du quartier ont déjà fermé leurs boutiques, a déclaré le député à Genève."


@pytest.mark.parametrize(
    "data, declared, encoding, source",
    [
        (b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<html><body><p>' + FRENCH.encode("cp1252"), None, "cp1252", "xml"),
        (b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-15"></head><p>'
         + FRENCH.encode("iso-8859-15"), None, "iso8859-15", "meta"),
        (b'<html><head><meta charset="windows-1250"></head><p>' + "Zażółć gęślą jaźń, rzekł minister.".encode("cp1250"), "utf-8", "cp1250", "meta"),
        (b'<html><head><meta charset="iso-8859-1"></head><p>' + FRENCH.encode("utf-8"), None, "utf-8", "utf-8"),
        (b'<html><head><meta charset="gb2312"></head><p>' + "新闻报道 ".encode("utf-8") * 5, None, "utf-8", "utf-8"),
        (b"<html><p>" + FRENCH.encode("cp1252"), None, "cp1252", "detected"),
        (b'<html><head><meta charset="utf-8"></head><p>' + FRENCH.encode("utf-8") + b" \xe9 " + FRENCH.encode("utf-8"), None, "utf-8", "utf-8"),
    ],
    ids=["xml-declaration", "meta-http-equiv", "meta-after-bad-header", "valid-utf8-beats-latin1-label",
         "valid-utf8-beats-gb2312-label", "western-undeclared-is-cp1252", "utf8-with-a-stray-byte"],
)
def test_html_cascade(data, declared, encoding, source):
    out = decode_bytes(data, declared=declared, html=True)
    assert (out.encoding, out.source) == (encoding, source)
    assert any(w in out.text for w in ("commerçants", "gęślą", "\u65b0\u95fb"))


@pytest.mark.parametrize(
    "text, codec",
    [("Zażółć gęślą jaźń, powiedział minister w środę, że będzie źle.", "cp1250"),
     ("Министр заявил в среду, что новости будут хорошими.", "cp1251")],
    ids=["polish-cp1250", "russian-cp1251"],
)
def test_western_rule_does_not_take_other_code_pages(text, codec):
    out = decode_bytes(text.encode(codec))
    assert out.text == text and out.source == "detected"


def test_page_declarations_are_ignored_for_text_dumps():
    data = b'<meta charset="cp1257"> ' + FRENCH.encode("cp1252")
    assert decode_bytes(data).encoding == "cp1252"


@pytest.mark.parametrize(
    "data, reason",
    [(b"", "empty"), (b"  \n\t ", "empty"), (b"\x00\x01\x02binary\x00" * 50, "not_text"), (codecs.BOM_UTF8 + b"\xff\xfe\xfa", "decode_error")],
    ids=["empty", "blank", "binary", "bad-bom"],
)
def test_bad_bytes_are_rejected_with_reason(data, reason):
    out = decode_bytes(data)
    assert isinstance(out, Reject) and out.reason == reason and out.detail
