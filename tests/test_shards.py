"""Shards by work: pages and bytes bound every shard, a large WARC file is split between its
records, small files are grouped; the split depends only on the inputs and the settings; a
split file gives the rows it gives unsplit, and is still one input file of the run."""

from __future__ import annotations

import io
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from conftest import FIXTURES
from thresher import archive, sources
from thresher.config import Config, EXECUTION_ONLY
from thresher.provenance import config_sha256
from thresher.run import archive_serial, begin_run, end_run
from thresher.sources import RawInput, WorkUnit, cut
from thresher.sources.shards import MIN_SHARDS, PAGE_BYTES, TAIL_SHARDS

SLUGS = sorted(p.stem for p in (FIXTURES / "html").glob("*.html"))[:12]


def write_crawl(path, gz=True, copies=2):
    """A crawl as it comes: warcinfo, then per page a request, its response and a metadata
    record, and an image among them; each page on a site of its own, fetched ``copies`` times."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
    for round_ in range(copies):
        for i, slug in enumerate(SLUGS):
            url = f"https://site{i}.example/{slug}"
            writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")))
            body = (FIXTURES / "html" / f"{slug}.html").read_bytes()
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                                          warc_headers_dict={"WARC-Date": f"2025-03-0{round_ + 1}T10:00:00Z"}))
            writer.write_record(writer.create_warc_record(url, "metadata", payload=io.BytesIO(b"via: test\r\n")))
            if i == 5:
                img = StatusAndHeaders("200 OK", [("Content-Type", "image/jpeg")], protocol="HTTP/1.1")
                writer.write_record(writer.create_warc_record(url + ".jpg", "response", http_headers=img,
                                                              payload=io.BytesIO(b"\xff\xd8\xff" + b"\x00" * 500)))
    path.write_bytes(buf.getvalue())
    return len(SLUGS) * copies + copies  # page records: the HTML ones and the images


def rows(out) -> dict[str, list[tuple]]:
    """Every published row, without what differs between two runs (run time and id)."""
    keep = ("doc_id", "source_path", "source_offset", "warc_record_id", "raw_sha256", "text", "reason",
            "duplicate_of", "config_sha256")
    found = {}
    for name in ("articles", "duplicates", "rejects"):
        table = archive.read_dataset(out, name)
        cols = [c for c in keep if c in table.column_names]
        found[name] = sorted(tuple(r[c] for c in cols) for r in table.select(cols).to_pylist())
    return found


def files(n: int, size: int = 1000) -> list[RawInput]:
    return [RawInput(f"p{i:05d}.html", "html", size=size) for i in range(n)]


def test_small_files_are_grouped_in_order_and_every_shard_is_bounded():
    for n, max_pages in [(1000, 1000), (3000, 1000), (10001, 1000), (50, 1000), (7, 2)]:
        shards = cut(files(n), {}, max_pages, 1 << 30)
        assert [u.item for s in shards for u in s] == files(n)  # all, once, in order
        assert all(len(s) <= max_pages for s in shards)
        body = shards[: -2 * TAIL_SHARDS] if len(shards) > 2 * TAIL_SHARDS else shards
        assert max(map(len, body)) - min(map(len, body)) <= 1  # equal pages weigh alike: no straggler
    # 1,000 pages still keep 8 cores busy, the last 2 shards halved; 50 pages are one task
    assert len(cut(files(1000), {}, 1000, 1 << 30)) == MIN_SHARDS + TAIL_SHARDS
    assert len(cut(files(50), {}, 1000, 1 << 30)) == 1  # 8 tasks of 6 pages would be all overhead
    assert len(cut(files(10001), {}, 1000, 1 << 30)) == 11 + TAIL_SHARDS
    assert cut([], {}, 1000, 1 << 30) == []


def test_the_last_shards_are_halves_so_no_core_waits_on_a_whole_shard():
    """On 2 cores, 11 equal shards would leave one core idle through the whole 11th: the last
    shards are half-size, whatever the number of workers."""
    shards = cut(files(11000), {}, 1000, 1 << 30)
    sizes = [len(s) for s in shards]
    assert sizes[: -2 * TAIL_SHARDS] == [1000] * 9 and sizes[-2 * TAIL_SHARDS :] == [500] * 4


def test_shards_are_bounded_by_bytes_and_balanced_by_weight():
    """A few large pages weigh as much as many small ones: shards of about equal work."""
    items = [RawInput(f"p{i:05d}.html", "html", size=(400_000 if i % 10 == 0 else 20_000)) for i in range(2000)]
    budget = 4 << 20
    shards = cut(items, {}, 1000, budget)
    sizes = [sum(u.bytes for u in s) for s in shards]
    assert max(sizes) <= budget and sum(sizes) == sum(i.size for i in items)
    weights = [sum(u.bytes + PAGE_BYTES * u.pages for u in s) for s in shards[: -2 * TAIL_SHARDS]]
    assert max(weights) < 1.25 * min(weights)


def _index(pages: int, per_page: int = 3) -> list[tuple[int, int, bool]]:
    """A WARC file's record index: warcinfo, then per page a request, the response, metadata."""
    index, offset = [(0, 300, False)], 400
    for _ in range(pages):
        for kind in ("request", "response", "metadata")[:per_page]:
            size = 60_000 if kind == "response" else 500
            index.append((offset, size, kind == "response"))
            offset += size // 4
    return index


def test_a_large_warc_is_cut_before_page_records_into_ranges_that_meet():
    warc = RawInput("crawl.warc.gz", "warc.gz", size=10**9)
    index = _index(5000)
    shards = cut([warc], {"crawl.warc.gz": index}, 1000, 32 << 20)
    units = [u for s in shards for u in s]
    assert len(shards) >= 10 and all(len(s) == 1 for s in shards)
    assert units[0].start == 0 and units[-1].stop is None  # the last range reads to the end: cuts and junk are its
    assert all(a.stop == b.start for a, b in zip(units, units[1:]))  # no record read twice or skipped
    page_offsets = {o for o, _, page in index if page}
    assert all(u.start in page_offsets for u in units[1:])  # a request record stays with the page before it
    assert sum(u.pages for u in units) == 5000 and [u.pages_before for u in units] == [
        sum(v.pages for v in units[:k]) for k in range(len(units))]
    assert sum(u.counts_file for u in units) == 1  # one input file, however many ranges
    assert all(u.pages <= 1000 and u.bytes <= 32 << 20 for u in units)


def test_the_warc_record_limit_ends_the_split_where_the_reader_rejects_the_rest():
    warc = RawInput("crawl.warc", "warc", size=10**8)
    units = [u for s in cut([warc], {"crawl.warc": _index(100)}, 10, 1 << 30, max_records=35) for u in s]
    assert units[-1].stop is None and units[-1].pages_before + units[-1].pages == 36  # page 36: "too_large", to the end
    assert sum(u.pages for u in units) == 36


def test_a_warc_without_page_records_or_index_is_one_unit():
    for index in ([], [(0, 300, False), (400, 500, False)]):
        warc = RawInput("meta.warc.gz", "warc.gz", size=5000)
        assert cut([warc], {"meta.warc.gz": index}, 1, 1) == [[WorkUnit(warc, bytes=5000)]]


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_a_warc_split_over_shards_gives_the_rows_it_gives_unsplit(tmp_path, gz):
    raw = tmp_path / "raw"
    raw.mkdir()
    name = "crawl.warc.gz" if gz else "crawl.warc"
    pages = write_crawl(raw / name, gz)
    whole = archive_serial(raw, tmp_path / "whole", Config())
    split = archive_serial(raw, tmp_path / "split", Config(shard_size=3))
    plan = begin_run(raw, tmp_path / "plan", Config(shard_size=3))
    end_run(plan)
    assert len(plan.jobs) >= 8
    assert rows(tmp_path / "split") == rows(tmp_path / "whole")
    for manifest in (whole, split):  # accounted once as a file, every page record in one row
        assert manifest["inputs"]["files"] == 1 and manifest["inputs"]["seen"] == pages


@pytest.mark.parametrize("damage", ["cut", "junk"])
def test_a_damaged_warc_split_over_shards_reports_its_damage_once(tmp_path, damage):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_crawl(tmp_path / "full.warc.gz")
    data = (tmp_path / "full.warc.gz").read_bytes()
    (raw / "crawl.warc.gz").write_bytes(data[: int(len(data) * 0.7)] if damage == "cut" else data + b"\x00junk" * 100)
    archive_serial(raw, tmp_path / "whole", Config())
    archive_serial(raw, tmp_path / "split", Config(shard_size=3))
    split = rows(tmp_path / "split")
    assert split == rows(tmp_path / "whole")
    damage_rows = [r for r in split["rejects"] if r[-2] in {"truncated_archive", "malformed_warc"}]  # (…, reason, config)
    assert len(damage_rows) == 1 and len(split["articles"]) + len(split["duplicates"]) >= 5


def test_the_split_depends_on_the_inputs_and_settings_not_on_the_workers(tmp_path):
    """The WARC files are indexed by a pool in the flow and in place by the serial runner: the
    same shards either way; shard settings change no record's config_sha256."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for k in range(3):
        write_crawl(raw / f"crawl{k}.warc.gz", copies=1 + k)
    (raw / "page.html").write_bytes((FIXTURES / "html" / f"{SLUGS[0]}.html").read_bytes())
    config = Config(shard_size=4, shard_bytes=200_000)
    plans = [begin_run(raw, tmp_path / "a", config)]
    with ProcessPoolExecutor(2) as pool:
        plans.append(begin_run(raw, tmp_path / "b", config, mapper=pool.map))
    for plan in plans:
        end_run(plan)
    serial, pooled = (plan.jobs for plan in plans)
    assert [j.units for j in serial] == [j.units for j in pooled]
    assert len(serial) > 3 and len({u.item.source_path for j in serial for u in j.units}) == 4
    assert {"shard_size", "shard_bytes"} <= EXECUTION_ONLY
    assert config_sha256(config) == config_sha256(Config())


def test_reading_a_range_reads_exactly_its_records(tmp_path):
    write_crawl(tmp_path / "c.warc.gz")
    item = sources.discover(tmp_path)[0]
    index = sources.index_warc(tmp_path, item)
    read = partial(sources.read_pages, tmp_path, item, 1 << 20)
    whole = [(u.offset, u.record_id) for u in read()]
    units = [u for s in cut([item], {item.source_path: index}, 5, 1 << 30) for u in s]
    parts = [(p.offset, p.record_id) for u in units for p in read(1_000_000, u.start, u.stop, u.pages_before)]
    assert len(units) > 3 and parts == whole
