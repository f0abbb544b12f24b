"""thresher: scraped news pages in, a clean, deduplicated, auditable Parquet archive out.

The package is plain Python with one pure function per stage (``sources``, ``decode``,
``boilerplate``, ``textdump``, ``records``, ``archive``); Prefect lives only in ``flows/``.
Importing ``thresher`` must never import Prefect: the library is usable and testable alone.
"""

__version__ = "0.1.0"
