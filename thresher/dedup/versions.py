"""Versions of a story: the same page fetched again with text that changed beyond a copy.

A developing story is fetched at one URL again and again. When a fetch is a copy of one
already seen (exact or near), :mod:`.clusters` makes it a ``refetch`` duplicate. When its text
has changed more than that (the story grew, the facts changed), it is a new article row, and
this module links it to the previous one: ``version_of`` is the previous version's doc_id and
``version`` counts 1, 2, 3 … along the page's history, across runs. Archived rows never change:
a new version points back, the old one is not rewritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from thresher.dedup.clusters import UnionFind, url_groups


@dataclass(frozen=True)
class Version:
    """Where a new canonical article sits in its page's history."""

    doc_id: str
    version: int
    version_of: str | None


def assign_versions(doc_ids: Sequence[str], urls: Sequence[Sequence[str] | None], archived: Sequence[bool],
                    versions: Sequence[int | None], fetched: Sequence[float], paths: Sequence[str],
                    duplicates: set[str], groups: list[list[int]] | None = None) -> list[Version]:
    """The version of every new row that is not a duplicate (``duplicates`` holds the doc_ids
    dedup moved), in parallel sequences over archived and new rows (``versions``: the archived
    rows' own, None for new rows). ``groups``: the rows sharing a URL key, when the caller has
    them (:func:`~thresher.dedup.clusters.url_groups` of ``urls`` otherwise).

    Rows that share a URL key (directly or through a chain of keys) are one page's history.
    New versions follow the latest archived one (its version, then fetch time) in the order
    they were fetched (then by path). A row with no earlier version is version 1.
    """
    n = len(doc_ids)
    alive = [i for i in range(n) if archived[i] or doc_ids[i] not in duplicates]
    live = set(alive)
    uf = UnionFind(n)
    for group in url_groups(urls) if groups is None else groups:
        group = [i for i in group if i in live]
        for i in group[1:]:
            uf.union(group[0], i)
    histories: dict[int, list[int]] = {}
    for i in alive:
        histories.setdefault(uf.find(i), []).append(i)
    out = []
    for members in histories.values():
        old = [i for i in members if archived[i]]
        new = sorted((i for i in members if not archived[i]), key=lambda i: (fetched[i], paths[i]))
        prev = max(old, key=lambda i: (versions[i] or 1, fetched[i], paths[i])) if old else None
        number = (versions[prev] or 1) if prev is not None else 0
        for i in new:
            number += 1
            out.append(Version(doc_ids[i], number, doc_ids[prev] if prev is not None else None))
            prev = i
    return sorted(out, key=lambda v: v.doc_id)
