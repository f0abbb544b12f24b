"""Shards: the batches of work a task does, the unit of parallel work, cut by pages and bytes.

A shard is a bounded amount of input: at most ``max_pages`` pages and about ``max_bytes`` bytes
(a page's bytes as the listing or the WARC header gives them). Inputs are cut into
:class:`WorkUnit` s: a file, or a run of consecutive records of a WARC file, so a crawl
delivered as one WARC file of 50,000 records is spread over every core, many small files are
grouped, and a worker holds one shard's pages, whatever the corpus. A WARC file is only cut
before a page record (request and metadata records stay with the page before them), at offsets
its index gives (:func:`thresher.sources.warc.index_records`), where a reader seeking there
finds a record.

The split depends only on the inputs and the settings, never on the number of workers, so a
laptop and a cluster make the same shards, and the same run the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from thresher.sources.discover import RawInput

MIN_SHARDS = 8  # a small run is still spread over this many tasks (cores of a laptop or two)...
MIN_SHARD_PAGES = 100  # ...unless its shards would fall below this: then a task is mostly overhead
# What one page costs beyond its bytes (parse set-up, rules, metadata, its rows), counted as
# bytes of markup so that shards of many small pages and of few large ones take about as long.
PAGE_BYTES = 8192
# The last shards of a run of MIN_SHARDS or more are cut in two: a worker that finishes early
# then waits on at most half a shard for the others (on 2 cores, 11 equal shards left one core
# idle through the whole 11th).
TAIL_SHARDS = 2

Index = Sequence[tuple[int, int, bool]]  # (offset, content bytes, is a page record) per record


@dataclass(frozen=True)
class WorkUnit:
    """What a shard reads of one input: the whole file, or the records of a WARC file from
    ``start`` (a record's offset) to ``stop`` (where the next unit of the same file starts;
    None: to the end of the file, where a cut or trailing junk is reported).

    ``pages_before`` counts the file's page records before ``start`` (the per-file record
    limit counts across units); ``pages`` and ``bytes`` are what the unit weighs."""

    item: RawInput
    start: int = 0
    stop: int | None = None
    pages: int = 1
    bytes: int = 0
    pages_before: int = 0

    @property
    def counts_file(self) -> bool:
        """Whether this unit accounts for its file (the whole file, or its first part): a file
        cut into several units is still one input file of the run."""
        return self.start == 0


def is_warc(item: RawInput) -> bool:
    return item.input_format.startswith("warc") and not item.refused


def _atoms(item: RawInput, index: Index | None, max_records: int) -> list[WorkUnit]:
    """The pieces a shard boundary never cuts: a whole file, or one page record of a WARC file
    with the records after it up to the next page record (the first piece from offset 0, so
    ``warcinfo`` goes with it). From the page past ``max_records`` on, the rest of the file is
    one piece: the reader rejects it there as it would unsplit."""
    pages = [i for i, (_, _, page) in enumerate(index or ()) if page]
    if not is_warc(item) or not pages:
        return [WorkUnit(item, bytes=item.size or 0)]
    starts = [0] + pages[1 : max_records + 1]  # record numbers where the pieces begin
    atoms = []
    for k, first in enumerate(starts):
        last = starts[k + 1] if k + 1 < len(starts) else len(index)
        offset = index[first][0] if k else 0
        content = sum(length for _, length, _ in index[first:last])
        atoms.append(WorkUnit(item, offset, None, 1, content, k))
    return atoms


def cut(items: list[RawInput], indexes: dict[str, Index], max_pages: int, max_bytes: int,
        max_records: int = 1_000_000) -> list[list[WorkUnit]]:
    """The shards of a run: consecutive pieces of the inputs, in discovery order.

    Pieces are dealt out by weight (bytes plus :data:`PAGE_BYTES` per page), so shards take
    about as long as each other. Their number starts at the most of: pages over ``max_pages``,
    bytes over ``max_bytes``, and :data:`MIN_SHARDS` while each keeps :data:`MIN_SHARD_PAGES`
    pages (1,000 pages in one shard would keep one core busy and the rest idle); while a shard
    of more than one piece exceeds a bound (pieces of uneven weight), there are more shards.
    Then the last :data:`TAIL_SHARDS` are halved. ``indexes`` holds the record index of each
    WARC file by its source path (:func:`index_warcs`).
    """
    atoms = [a for item in items for a in _atoms(item, indexes.get(item.source_path), max_records)]
    if not atoms:
        return []
    pages = sum(a.pages for a in atoms)
    size = sum(a.bytes for a in atoms)
    count = max(-(-pages // max_pages), -(-size // max_bytes), min(MIN_SHARDS, pages // MIN_SHARD_PAGES), 1)
    while True:
        groups = _deal(atoms, count)
        if all(len(g) == 1 or (sum(a.pages for a in g) <= max_pages and sum(a.bytes for a in g) <= max_bytes)
               for g in groups):
            break
        count += max(1, count // 8)
    if len(groups) >= MIN_SHARDS:
        groups[-TAIL_SHARDS:] = [half for g in groups[-TAIL_SHARDS:] for half in _deal(g, 2)]
    return _units(groups)


def _weight(atom: WorkUnit) -> int:
    return atom.bytes + PAGE_BYTES * atom.pages


def _deal(atoms: list[WorkUnit], count: int) -> list[list[WorkUnit]]:
    """Consecutive pieces into ``count`` groups of about equal weight (each piece goes to the
    group its midpoint falls in), the empty ones left out."""
    weights = [_weight(a) for a in atoms]
    total, before = sum(weights), 0
    groups: list[list[WorkUnit]] = [[] for _ in range(count)]
    for atom, weight in zip(atoms, weights):
        groups[min(count - 1, (2 * before + weight) * count // (2 * total))].append(atom)
        before += weight
    return [g for g in groups if g]


def _units(shards: list[list[WorkUnit]]) -> list[list[WorkUnit]]:
    """Consecutive pieces of one file in a shard become one unit, which stops where the file's
    next piece (in a later shard) starts, or at the end of the file."""
    flat = [atom for shard in shards for atom in shard]
    stops = {id(a): (b.start if b.item.source_path == a.item.source_path else None)
             for a, b in zip(flat, flat[1:])}
    out = []
    for shard in shards:
        units: list[WorkUnit] = []
        for atom in shard:
            stop = stops.get(id(atom))
            if units and units[-1].item.source_path == atom.item.source_path:
                last = units[-1]
                units[-1] = WorkUnit(last.item, last.start, stop, last.pages + atom.pages, last.bytes + atom.bytes,
                                     last.pages_before)
            else:
                units.append(WorkUnit(atom.item, atom.start, stop, atom.pages, atom.bytes, atom.pages_before))
        out.append(units)
    return out


def index_warcs(items: Iterable[RawInput], index: Callable[[RawInput], Index],
                mapper: Callable = map) -> dict[str, Index]:
    """The record index of every WARC input, by source path, computed with ``index`` through
    ``mapper`` (a process pool's ``map`` indexes several files at once)."""
    warcs = [item for item in items if is_warc(item)]
    return dict(zip((w.source_path for w in warcs), mapper(index, warcs)))
