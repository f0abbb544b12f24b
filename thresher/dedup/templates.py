"""Template paragraphs: text a site repeats on many of its pages, which the rules missed.

A paragraph that recurs on many pages of the same site (a donation appeal, a standard
disclaimer) is removed, logged as ``repeated_paragraph``, before anything is compared. A
paragraph shared by different sites is a quote or syndication and stays.
"""

from __future__ import annotations

from collections import Counter

from thresher.dedup.signatures import paragraph_hash
from thresher.text import word_count

# A paragraph on this many pages of one site is template text (background paragraphs of a
# running story recur in a handful of follow-ups, not in eight).
REPEAT_MIN_PAGES = 8
REPEAT_RULE = "repeated_paragraph@1"


def strip_repeated_paragraphs(rows: list[dict], known: dict[tuple[str, int], int]) -> Counter:
    """Remove paragraphs a site repeats on many pages (dedup's first layer), in place.

    Counts are this shard's pages plus ``known`` (earlier runs); returns this shard's counts
    so they can be persisted. Each removal is logged as ``repeated_paragraph`` with the
    paragraph's index (``line``) and offsets in the text as it was before this stage.
    """
    split = []
    for row in rows:
        paras = row["text"].split("\n\n")
        split.append((row, paras, [paragraph_hash(p) for p in paras] if row["site"] else []))
    shard_counts = Counter()
    for row, _, hashes in split:
        shard_counts.update((row["site"], h) for h in set(hashes))
    totals = Counter(known)
    totals.update(shard_counts)
    doomed = {key for key, n in totals.items() if n >= REPEAT_MIN_PAGES}
    for row, paras, hashes in split:
        if not row["site"] or not doomed:
            continue
        keep, pos = [], 0
        for k, (para, h) in enumerate(zip(paras, hashes)):
            if (row["site"], h) in doomed and len(paras) > 1:
                row["removed"].append({"rule": REPEAT_RULE, "line": k, "start": pos, "end": pos + len(para), "text": para})
            else:
                keep.append(para)
            pos += len(para) + 2
        if len(keep) < len(paras) and keep:
            row["text"] = "\n\n".join(keep)
            row["word_count"] = word_count(row["text"])
    return shard_counts
