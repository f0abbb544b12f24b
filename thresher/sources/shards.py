"""Shards: the batches of inputs a task works on, the unit of parallel work."""

from __future__ import annotations

MIN_SHARDS = 8  # a small run is still spread over this many tasks (cores of a laptop or two)...


MIN_SHARD_ITEMS = 100  # ...unless its shards would fall below this: then a task is mostly overhead


def shard(items: list, max_size: int) -> list[list]:
    """The batches tasks work on: consecutive chunks of at most ``max_size`` items, of equal
    size (within one), and at least :data:`MIN_SHARDS` of them while each keeps
    :data:`MIN_SHARD_ITEMS`.

    ``max_size`` bounds a worker's memory and the number of task runs on big runs; the
    minimum count keeps every core busy on small ones (1,000 pages in one 1,000-page shard would
    leave all cores but one idle). The split depends only on the inputs and ``max_size``, not on
    the number of workers, so the same run gives the same shards on a laptop or a cluster.
    """
    n = len(items)
    if n == 0:
        return []
    count = max(-(-n // max_size), min(MIN_SHARDS, n // MIN_SHARD_ITEMS))
    base, extra = divmod(n, count)
    sizes = [base + 1] * extra + [base] * (count - extra)
    out, start = [], 0
    for size in sizes:
        out.append(items[start : start + size])
        start += size
    return out
