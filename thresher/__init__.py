"""thresher: scraped news pages in, a clean, deduplicated, auditable Parquet archive out.

The library is plain Python, a package per stage in data-flow order: ``sources`` (discover,
read, decode, WARC, shards), ``rules`` and ``extract`` (article text and metadata), ``dedup``,
``archive`` (catalogue, memory, commit); ``clean`` runs one shard, ``run`` the run sequence;
``cli``, ``audit``, ``report``, ``search`` and ``export`` are its faces. Shared types sit at the
bottom (``records``, ``config``, ``text``, ``storage``). Prefect lives only in ``flows/``:
importing ``thresher`` never imports Prefect, so the library is usable and testable alone.
"""

__version__ = "0.1.0"
