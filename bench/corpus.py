"""The benchmark corpus of ``make bench``: real pages, with the copies a news archive meets.

Built from the HTML of the 2,295 real development pages (``../shared/extraction-dev``, see
bench/devsets.py), whose gold bodies say what each page's article is. Page ``i`` of a corpus of
``N`` is, by a seeded draw (``SEED``; the corpus of 1,000 pages is the start of the corpus of
10,000):

* a **new page**: the next dev page not used yet, as fetched (one in four pages is a copy
  until the dev pages run out; after that every page is one);
* a **re-fetch** of an earlier page on the same site: same URL, fetched later; its markup
  differs around the article (an "updated" notice, a "most read" box of other pages'
  headlines, a cache comment), its article does not;
* a **syndicated copy** of an earlier page on another site: another host, that site's header,
  navigation, "most read" box and footer around the same article.

Every fifth page is a **text dump** of its page, flattened the way scrapers leave them (the
page's text, one block per line: navigation, teasers and footer included). Every page of one
dev page is one story: the dedup truth is those groups, and every page's extraction is judged
against its dev page's gold body (bench/scoring.py), on the pages whose dev page is in the
test split.

The same pages are written in two forms: loose files (``files/raw/<host>/<n>.html`` or
``.txt``, each with a ``.json`` sidecar of URL and fetch time), and as crawls deliver them
(``warc/raw/crawl-<k>.warc.gz``: :data:`WARC_FILES` large WARC files, a request, the response
and a metadata record per HTML page, as Common Crawl writes them; the text dumps stay loose
files beside them). ``warc1`` puts all HTML pages in a single WARC file.
"""

from __future__ import annotations

import hashlib
import html as htmllib
import io
import json
import random
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from devsets import DevPage, absent_message, load_pages

SEED = 22
COPY_SHARE = 0.25  # pages that are a copy of an earlier one, while new dev pages last
DUMP_EVERY = 5  # every fifth page is a flattened text dump
WARC_FILES = 4  # "a few large WARC files"
FORMS = ("files", "warc", "warc1")
VERSION = 2  # of the corpus recipe: a kept corpus of another version is rebuilt
START = datetime(2025, 3, 1, tzinfo=timezone.utc)
BLOCKS = ("p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "br", "section", "article",
          "header", "footer", "nav", "aside", "blockquote", "pre", "ul", "ol", "table", "figure", "figcaption",
          "dt", "dd", "title", "form", "main")
SITE_NAMES = ["Daily Courier", "The Morning Post", "Evening Standard Online", "Metro Herald", "City Wire",
              "Northern Times", "Valley News", "Coastal Gazette", "Capital Report", "Tribune Now"]
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # never inside a UTF-8 or single-byte character
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # e.g. from &#1; or UTF-16
NAV = ["Home", "News", "World", "Business", "Politics", "Sport", "Culture", "Opinion", "Weather", "Video"]


@dataclass(frozen=True)
class CorpusPage:
    """One page of the corpus and the truth about it."""

    path: str  # relative to raw/ in the files form (and of a text dump in every form)
    record_id: str  # its WARC-Record-ID in the WARC forms (HTML pages)
    group: str  # the dev page it is made from ("dragnet_data/R123"): one story
    kind: str  # new, refetch or syndicated
    dump: bool
    split: str  # the dev page's split: extraction is judged on "test"
    url: str
    fetched_at: str


def _title(data: bytes) -> str:
    m = re.search(rb"<title[^>]*>(.*?)</title>", data[:20000], re.IGNORECASE | re.DOTALL)
    text = htmllib.unescape(m.group(1).decode("utf-8", "replace")) if m else ""
    return " ".join(text.split())[:90] or "More news"


def _ascii(text: str) -> bytes:
    """Markup safe to insert into a page in any ASCII-compatible charset."""
    return htmllib.escape(text).encode("ascii", "xmlcharrefreplace")


def _insert(data: bytes, after_body: bytes, before_end: bytes) -> bytes:
    """``after_body`` after the ``<body>`` tag and ``before_end`` before ``</body>`` (or at the
    ends); a UTF-16 page is left as it is (ASCII markup would break it)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data
    m = re.search(rb"<body[^>]*>", data, re.IGNORECASE)
    at = m.end() if m else 0
    data = data[:at] + after_body + data[at:]
    end = data.lower().rfind(b"</body>")
    return data[:end] + before_end + data[end:] if end >= 0 else data + before_end


def _most_read(rng: random.Random, titles: list[str]) -> bytes:
    items = b"".join(b'<li><a href="/story/%d">%s</a></li>' % (rng.randrange(10**6), _ascii(t))
                     for t in rng.sample(titles, 4))
    return b'<aside class="most-read"><h3>Most read</h3><ul>' + items + b"</ul></aside>"


def refetch(data: bytes, rng: random.Random, titles: list[str], when: datetime) -> bytes:
    """The page fetched again later: its chrome changed, its article not."""
    notice = b'<div class="updated">Updated %s</div><!-- cache %08x -->' % (
        _ascii(when.strftime("%d %B %Y, %H:%M")), rng.getrandbits(32))
    return _insert(data, notice, _most_read(rng, titles))


def syndicate(data: bytes, rng: random.Random, titles: list[str], site: str) -> bytes:
    """The article on another site, inside that site's header, navigation and footer."""
    nav = b" ".join(b'<a href="/%s">%s</a>' % (n.lower().encode(), n.encode()) for n in NAV)
    header = (b'<header class="site"><a class="brand" href="/">%s</a><nav>%s <a href="/login">Log in</a> '
              b'<a href="/subscribe">Subscribe</a></nav></header>' % (_ascii(site), nav))
    footer = (_most_read(rng, titles) + b'<footer class="site"><p>&copy; 2025 %s. All rights reserved.</p>'
              b'<p><a href="/contact">Contact us</a> | <a href="/privacy">Privacy policy</a></p></footer>' % _ascii(site))
    return _insert(data, header, footer)


def flatten(data: bytes) -> str:
    """A page as a scraper's text dump: its visible text, one block per line, chrome and all."""
    import lxml.html
    from lxml import etree

    try:  # control bytes out first: lxml parses them but refuses to set them back into the tree
        tree = lxml.html.document_fromstring(_CONTROL.sub(b" ", data))
    except (etree.ParserError, ValueError):
        return ""
    for el in tree.iter():  # whitespace inside a block is one space, as a browser shows it
        el.text = _SPACE.sub(" ", _NOT_XML.sub(" ", el.text)) if el.text else el.text
        el.tail = _SPACE.sub(" ", _NOT_XML.sub(" ", el.tail)) if el.tail else el.tail
    for bad in tree.xpath("//script|//style|//noscript|//template|//meta|//link"):
        bad.drop_tree()
    etree.strip_elements(tree, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    for el in tree.iter(*BLOCKS):
        el.tail = "\n" + (el.tail or "")
        el.text = "\n" + (el.text or "")
    lines = (" ".join(line.split()) for line in tree.text_content().splitlines())
    return "\n".join(line for line in lines if line) + "\n"


_DECLARED = re.compile(rb"""(?:rel=["']canonical["'][^>]*href|property=["']og:url["'][^>]*content|<base[^>]*href)"""
                       rb"""\s*=\s*["'](https?://[^"'\s>]+)""", re.IGNORECASE)


def _url(page: DevPage) -> str:
    """Where the page was fetched: its gold's URL, else the one the page declares (canonical,
    og:url, base), else a host of its own (so pages of different sites never share one)."""
    if page.url and page.url.startswith("http"):
        return page.url
    m = _DECLARED.search(page.html()[:60000])
    if m:
        return m.group(1).decode("ascii", "replace")
    return f"https://{page.dataset.lower().replace('_', '-')}-{page.page_id.lower()}.example/"


def _host(url: str) -> str:
    m = re.match(r"[a-z]+://([^/:?#]+)", url, re.IGNORECASE)
    return m.group(1).lower() if m else "unknown.example"


def plan(n: int, pages: list[DevPage]) -> list[tuple[CorpusPage, DevPage]]:
    """The corpus's pages in order, each with its dev page and how to make its bytes."""
    rng = random.Random(SEED)
    order = sorted(pages, key=lambda p: p.key)
    rng.shuffle(order)
    used: list[int] = []  # dev pages already in the corpus, by position in ``order``
    out = []
    for i in range(n):
        fresh = len(used) < len(order) and (not used or rng.random() >= COPY_SHARE)
        if fresh:
            k = len(used)
            used.append(k)
            kind, url = "new", _url(order[k])
        else:
            k = rng.choice(used)
            if rng.random() < 0.5:
                kind, url = "refetch", _url(order[k])
            else:
                site = rng.randrange(len(SITE_NAMES))
                host = f"{SITE_NAMES[site].lower().replace(' ', '')}.example"
                kind, url = "syndicated", f"https://{host}/news/{i:06d}"
        dev = order[k]
        host = _host(url)
        dump = i % DUMP_EVERY == DUMP_EVERY - 1
        when = START + timedelta(minutes=7 * i)
        record_id = f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"
        path = f"{host}/{i:06d}.{'txt' if dump else 'html'}"
        out.append((CorpusPage(path, record_id, dev.key, kind, dump, dev.split, url, when.isoformat()), dev))
    return out


def page_bytes(page: CorpusPage, dev: DevPage, titles: list[str]) -> bytes:
    """The bytes of one corpus page (HTML, or its dump as UTF-8), seeded by its path."""
    rng = random.Random(f"{SEED}/{page.path}")
    data = dev.html()
    if page.kind == "refetch":
        data = refetch(data, rng, titles, datetime.fromisoformat(page.fetched_at))
    elif page.kind == "syndicated":
        site = next((s for s in SITE_NAMES if s.lower().replace(" ", "") in page.url), SITE_NAMES[0])
        data = syndicate(data, rng, titles, site)
    return flatten(data).encode("utf-8") if page.dump else data


def make_corpus(folder: Path, n: int, forms: tuple[str, ...] = ("files", "warc")) -> dict:
    """Write the corpus of ``n`` pages under ``folder/<form>/raw`` for each form, and
    ``folder/truth.json``; an existing corpus of the same recipe is kept. Returns what was made.
    Raises SystemExit when the dev pages are absent: a benchmark of nothing says nothing."""
    truth_path = folder / "truth.json"
    if truth_path.is_file():
        made = json.loads(truth_path.read_text())
        if made.get("version") == VERSION and made["pages"] == n and all((folder / f / "raw").is_dir() for f in forms):
            return made
    pages = load_pages()
    if not pages:
        raise SystemExit(absent_message())
    titles = sorted({_title(p.html()) for p in pages[:400]})
    planned = plan(n, pages)
    writers = {f: _Writer(folder / f / "raw", f, n) for f in forms}
    for page, dev in planned:
        data = page_bytes(page, dev, titles)
        for w in writers.values():
            w.add(page, data)
    for w in writers.values():
        w.close()
    kinds = {k: sum(1 for p, _ in planned if p.kind == k) for k in ("new", "refetch", "syndicated")}
    made = {"version": VERSION, "pages": n, "dumps": sum(p.dump for p, _ in planned), **kinds,
            "stories": len({p.group for p, _ in planned}), "forms": list(forms),
            "truth": [asdict(p) for p, _ in planned]}
    truth_path.write_text(json.dumps(made))
    return made


class _Writer:
    """One form of the corpus: loose files with sidecars, or WARC files (dumps stay loose)."""

    def __init__(self, raw: Path, form: str, n: int) -> None:
        self.raw, self.form = raw, form
        self.files = 1 if form == "warc1" else WARC_FILES
        self.per_file = -(-(n - n // DUMP_EVERY) // self.files)
        self.html = 0
        self.warc = None
        raw.mkdir(parents=True, exist_ok=True)

    def add(self, page: CorpusPage, data: bytes) -> None:
        if self.form == "files" or page.dump:
            path = self.raw / page.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.with_suffix(".json").write_text(json.dumps({"url": page.url, "fetched_at": page.fetched_at}))
            return
        if self.html % self.per_file == 0:
            self._next_file()
        self.html += 1
        self._response(page, data)

    def _next_file(self) -> None:
        from warcio.warcwriter import WARCWriter

        self.close()
        self.fh = open(self.raw / f"crawl-{self.html // self.per_file:05d}.warc.gz", "wb")
        self.warc = WARCWriter(self.fh, gzip=True)

    def _response(self, page: CorpusPage, data: bytes) -> None:
        from warcio.statusandheaders import StatusAndHeaders

        w, date = self.warc, page.fetched_at.replace("+00:00", "Z")
        ids = [f"<urn:uuid:{uuid.UUID(hashlib.sha256(f'{k}{page.record_id}'.encode()).hexdigest()[:32])}>" for k in "rm"]
        request = StatusAndHeaders(f"GET {page.url} HTTP/1.1", [("User-Agent", "bench-crawler/1.0")], is_http_request=True)
        w.write_record(w.create_warc_record(page.url, "request", payload=io.BytesIO(b""), http_headers=request,
                                            warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": ids[0]}))
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(page.url, "response", payload=io.BytesIO(data), http_headers=http,
                                            warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": page.record_id,
                                                               "WARC-Identified-Payload-Type": "text/html"}))
        meta = json.dumps({"fetchTimeMs": 120}).encode()
        w.write_record(w.create_warc_record(page.url, "metadata", payload=io.BytesIO(meta),
                                            warc_content_type="application/json",
                                            warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": ids[1]}))

    def close(self) -> None:
        if self.warc is not None:
            self.fh.close()
            self.warc = None

