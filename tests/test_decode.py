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
    out = decode_bytes("Über die Brücke".encode("iso-8859-1"), declared="iso-8859-1")
    assert out == Decoded("Über die Brücke", "iso8859-1")


@pytest.mark.parametrize(
    "data, reason",
    [(b"", "empty"), (b"  \n\t ", "empty"), (b"\x00\x01\x02binary\x00" * 50, "not_text"), (codecs.BOM_UTF8 + b"\xff\xfe\xfa", "decode_error")],
    ids=["empty", "blank", "binary", "bad-bom"],
)
def test_bad_bytes_are_rejected_with_reason(data, reason):
    out = decode_bytes(data)
    assert isinstance(out, Reject) and out.reason == reason and out.detail
