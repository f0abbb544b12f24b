"""Readers never raise: any bytes give a page or a reject with a reason (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thresher.config import Config
from thresher.sources.decode import Decoded, decode_bytes
from thresher.extract import extract_html
from thresher.records import Reject
from thresher.sources import RawInput, read_pages
from thresher.extract import clean_dump

CFG = Config(max_bytes=1 << 20)
HTMLISH = st.lists(st.sampled_from(["<p>", "</p>", "<div style='display:none'>", "</div>", "<script>", "<!--", "&amp;",
                                    "<meta charset='koi8-r'>", "<html lang='xx'>", "Related news", "\x00", "é", "\ufffd",
                                    "The council met on Tuesday and voted 7-2 for the plan, officials said. "]),
                   max_size=60).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_decode_never_raises(data):
    assert isinstance(decode_bytes(data), (Decoded, Reject))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=3000), HTMLISH.map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_html_extraction_never_raises(data):
    out = extract_html(data, CFG)
    assert isinstance(out, Reject) or out[0].text


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=3000), st.text(max_size=2000).map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_text_dump_never_raises(data):
    out = clean_dump(data, CFG)
    assert isinstance(out, Reject) or out.text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), name=st.sampled_from(["x.warc", "x.warc.gz", "x.txt.gz", "x.html.gz"]))
def test_file_readers_never_raise(tmp_path, data, name):
    (tmp_path / name).write_bytes(data)
    units = list(read_pages(tmp_path, RawInput(name, name.split(".", 1)[1]), CFG.max_bytes))
    assert units, "every file yields at least one page or one reject"
