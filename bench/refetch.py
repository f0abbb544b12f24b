"""Re-fetched stories: real pages fetched ten times each, archived; articles per page and the
kept text against a single fetch.

    python -m bench.refetch [--pages 181] [--work DIR]        # make bench-refetch

Scheduled crawls fetch the same story again and again, with tracking parameters in the URL and
small edits between fetches. This builds that case from real pages: ``--pages`` pages of the
*test* split of ``../shared/extraction-dev`` (every CleanPortalEval page of it, then Dragnet
pages in a fixed hash order; never tuned on), each fetched 10 times from its own site. Copy 0
is the page as crawled; copies 1-9 carry a one-word edit in the body and ``?mirror=k`` in the
URL, fetched an hour apart. The 1,810 records are shuffled into 4 WARC files (warcio), as a
crawler's output, under ``--work`` (outside the repository: the pages' licences forbid
shipping them).

Three archives are made and compared:

* **single fetch**: copy 0 of every page, alone (the baseline);
* **10 fetches, one run**: the 4 WARC files in one run;
* **10 fetches, nightly**: copy k archived by run k, into one archive (ten runs: what
  repeated batch runs do to paragraph counts that carry over between runs).

Printed per archive: articles, articles per page, median words per article, characters
removed as template paragraphs, the kept text's F1 against the human gold (scrapinghub's
shingle metric, each article scored, averaged per page), and each page's kept text against the
single fetch of the same page (F1; pages under 0.93 counted and listed).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from multiprocessing import Pool
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from bench.devsets import DevPage, absent_message, load_pages, score_page, score_set
from thresher import archive
from thresher.config import Config
from thresher.dedup.templates import REPEAT_RULE
from thresher.run import archive_serial

COPIES = 10
WARC_FILES = 4
BASE_TIME = datetime(2025, 3, 3, 6, 0, tzinfo=timezone.utc)
BAR_F1 = 0.93  # a page's kept text against its single fetch: "as good as a single fetch"
_LINK = re.compile(rb"""<link[^>]+rel=["']?canonical["']?[^>]*>|<meta[^>]+property=["']og:url["'][^>]*>""", re.I)
_HREF = re.compile(rb"""(?:href|content)=["'](https?://[^"'\s>]+)["']""", re.I)
_WORD = re.compile(rb"(?<=[\s>])([A-Za-z]{6,12})(?=[\s<.,;])")


def pick_pages(n: int) -> list[DevPage]:
    """``n`` test-split pages: every CleanPortalEval page (news articles), then Dragnet pages
    (news and blogs) in the order of a hash of their key, so the choice never depends on
    anything thresher does with them."""
    pages = load_pages(("CleanPortalEval-master", "dragnet_data"), split="test")
    cpe = [p for p in pages if p.dataset == "CleanPortalEval-master"]
    rest = sorted((p for p in pages if p.dataset != "CleanPortalEval-master"),
                  key=lambda p: hashlib.sha256(p.key.encode()).hexdigest())
    return (cpe + rest)[:n]


def page_url(page: DevPage, html: bytes) -> str:
    """The page's own URL: the gold's, else its canonical link or og:url (not a home page),
    else one made up on a host of its own (so each page is its own site)."""
    if page.url and page.url.startswith("http"):
        return page.url
    tags = sorted(_LINK.findall(html[:200_000]), key=lambda t: b"canonical" not in t.lower())  # canonical first
    for tag in tags:
        m = _HREF.search(tag)
        if m and urlsplit(m.group(1).decode("ascii", "replace")).path.strip("/"):  # not a home page
            return m.group(1).decode("ascii", "replace")
    slug = re.sub(r"[^a-z0-9]+", "-", page.page_id.lower())
    return f"https://www.{page.dataset.replace('_', '-')}-{slug}.example/news/{slug}.html"


def one_word_edits(page: DevPage, html: bytes) -> list[bytes]:
    """Copies 1-9 of a page: each with one body word replaced by another word of the page.

    The word replaced is one the gold body holds and the markup holds once, between spaces or
    tags (so it is text, not an attribute); copy k takes the k-th such word."""
    gold_words = sorted({w for w in re.findall(r"[A-Za-z]{6,12}", page.gold)})
    once = [w for w in gold_words if len(re.findall(rb"\b" + w.encode() + rb"\b", html)) == 1
            and _WORD.search(html[max(0, html.find(w.encode()) - 1): html.find(w.encode()) + len(w) + 1])]
    rng = random.Random(page.key)
    copies = []
    for k in range(1, COPIES):
        if not once:
            copies.append(html)
            continue
        word = once[(k - 1) % len(once)]
        other = rng.choice([w for w in gold_words if w != word] or ["reportedly"])
        copies.append(re.sub(rb"\b" + word.encode() + rb"\b", other.encode(), html, count=1))
    return copies


def _record(writer: WARCWriter, url: str, when: datetime, body: bytes, record_id: str) -> None:
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
                            protocol="HTTP/1.1")
    rec = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http, warc_headers_dict={
        "WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "WARC-Record-ID": record_id})
    writer.write_record(rec)


def _with_mirror(url: str, k: int) -> str:
    return url if k == 0 else f"{url}{'&' if '?' in url else '?'}mirror={k}"


def build(pages: list[DevPage], work: Path) -> dict[str, tuple[str, int]]:
    """Write the corpus under ``work``: ``tenfold/`` (4 WARCs), ``single/`` (copy 0 of every
    page), ``nightly/k/`` (copy k of every page). Returns WARC-Record-ID -> (page key, copy)."""
    for sub in ("tenfold", "single", "nightly"):
        shutil.rmtree(work / sub, ignore_errors=True)
        (work / sub).mkdir(parents=True)
    records, owner = [], {}
    for page in pages:
        html = page.html()
        url = page_url(page, html)
        for k, body in enumerate([html, *one_word_edits(page, html)]):
            rid = f"<urn:uuid:{hashlib.sha256(f'{page.key}#{k}'.encode()).hexdigest()[:32]}>"
            owner[rid] = (page.key, k)
            records.append((_with_mirror(url, k), BASE_TIME + timedelta(hours=k), body, rid, k))
    random.Random(16).shuffle(records)  # copies of one page land in different files, as crawls do
    per_file = -(-len(records) // WARC_FILES)
    for i in range(WARC_FILES):
        with open(work / "tenfold" / f"crawl-{i}.warc.gz", "wb") as fh:
            writer = WARCWriter(fh, gzip=True)  # a gzip member per record, as crawlers write
            for rec in records[i * per_file:(i + 1) * per_file]:
                _record(writer, *rec[:4])
    for k in range(COPIES):
        (work / "nightly" / f"{k}").mkdir()
        with open(work / "nightly" / f"{k}" / f"night-{k}.warc.gz", "wb") as fh:
            writer = WARCWriter(fh, gzip=True)
            for rec in sorted((r for r in records if r[4] == k), key=lambda r: r[3]):
                _record(writer, *rec[:4])
    shutil.copy(work / "nightly" / "0" / "night-0.warc.gz", work / "single" / "single.warc.gz")
    return owner


def _pool_map(fn, jobs):
    with Pool(2) as pool:  # two cores, as the flow's default
        return pool.map(fn, list(jobs))


def archive_runs(raws: list[Path], out: Path) -> float:
    """Archive each raw folder in turn into ``out`` (one run each); the seconds it took."""
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    for raw in raws:
        archive_serial(raw, out, Config(), mapper=_pool_map)
    return time.perf_counter() - t0


def per_page(out: Path, owner: dict[str, tuple[str, int]]) -> tuple[dict[str, list[dict]], int]:
    """Each page's article rows (from any of its copies), and the characters removed as
    template paragraphs across the archive's articles and duplicates."""
    rows: dict[str, list[dict]] = defaultdict(list)
    cols = ["doc_id", "warc_record_id", "text", "word_count", "removed"]
    for row in archive.read_dataset(out, "articles", cols).to_pylist():
        rows[owner[row["warc_record_id"]][0]].append(row)
    template = 0
    for name in ("articles", "duplicates"):
        for table in archive.iter_dataset(out, name, ["removed"]):
            template += sum(len(r["text"]) for rem in table.column("removed").to_pylist() for r in rem or []
                            if r["rule"].split("@")[0] == REPEAT_RULE.split("@")[0])
    return rows, template


def page_text(rows: list[dict]) -> str:
    """What a reader finds for a page in the archive: its articles' texts, in one piece."""
    return "\n\n".join(r["text"] for r in sorted(rows, key=lambda r: r["doc_id"]))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=181)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "thresher-bench-refetch")
    args = ap.parse_args(argv)
    pages = pick_pages(args.pages)
    if not pages:
        print(absent_message())
        return 1
    gold = {p.key: p.gold for p in pages}
    owner = build(pages, args.work)
    sets = defaultdict(int)
    for p in pages:
        sets[p.dataset] += 1
    print(f"re-fetch corpus: {len(pages)} pages of the test split ({', '.join(f'{n} {s}' for s, n in sets.items())}) "
          f"x {COPIES} fetches = {len(owner)} records in {WARC_FILES} WARC files")
    runs = {
        "single fetch": [args.work / "single"],
        "10 fetches, one run": [args.work / "tenfold"],
        "10 fetches, nightly": [args.work / "nightly" / f"{k}" for k in range(COPIES)],
    }
    results = {}
    for name, raws in runs.items():
        out = args.work / ("out-" + re.sub(r"\W+", "-", name))
        seconds = archive_runs(raws, out)
        results[name] = (*per_page(out, owner), seconds)
    single = {k: page_text(v) for k, v in results["single fetch"][0].items()}
    print(f"{'archive':22} {'articles':>8} {'per page':>8} {'median words':>12} {'template chars':>14} "
          f"{'F1 vs gold':>10} {'pages F1<' + str(BAR_F1) + ' vs single':>24} {'min':>6}")
    for name, (rows, template, seconds) in results.items():
        n = sum(len(v) for v in rows.values())
        words = [r["word_count"] for v in rows.values() for r in v]
        vs_gold = score_set(score_page(gold[k], r["text"]) for k, v in rows.items() for r in v)
        # every page of the corpus, including one that kept no article (F1 0 then)
        against = {k: score_page(single.get(k, ""), page_text(rows.get(k, []))).f1 for k in gold}
        low = sorted((f, k) for k, f in against.items() if f < BAR_F1)
        print(f"{name:22} {n:8d} {n / len(pages):8.3f} {statistics.median(words) if words else 0:12.0f} {template:14d} "
              f"{vs_gold.f1:10.3f} {len(low):24d} {min(against.values()):6.3f}")
        for f, k in low[:10]:
            print(f"    {k}: F1 {f:.3f} against the single fetch, {len(rows.get(k, []))} articles")
    print("(wall time, for orientation only on a shared machine: "
          + ", ".join(f"{name} {s:.0f} s" for name, (_, _, s) in results.items()) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
