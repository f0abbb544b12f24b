"""datatrove's documented pipeline on a folder of pages: the baseline of ``make bench``.

    .venv-datatrove/bin/python bench/datatrove_pipeline.py RAW_DIR OUT_DIR [--workers 2] [--tokenizer split]
    .venv-datatrove/bin/python bench/datatrove_pipeline.py --extract FILE...   # for the quality bench

Runs in its own venv (``.venv-datatrove``, ``make venv-datatrove``, pinned by
``bench/requirements-datatrove.txt``) because datatrove 0.10.1 needs trafilatura < 1.12 and
thresher pins trafilatura 2.3.1. Nothing here is imported by thresher.

The job is the one thresher does in ``bench/throughput.py``: every page extracted, near-duplicate
pages removed with MinHash, the kept documents written as Parquet. It is datatrove's own
MinHash recipe (its ``examples/minhash_deduplication.py``) with the reading and extraction in
front, as four ``LocalPipelineExecutor`` stages:

1. pages (``WarcReader`` for WARC files, a page-folder reader for HTML files) →
   ``Trafilatura`` → text dumps added as they are → ``JsonlWriter`` (the extracted documents,
   kept for stage 4; uncompressed, cheaper than its gzip default) → ``MinhashDedupSignature``;
   ``tasks = workers``, so each worker process reads its share of the files;
2. ``MinhashDedupBuckets``: one task per LSH band, ``workers`` at a time;
3. ``MinhashDedupCluster``: one task (datatrove requires it), union-find of the pairs, with
   each document's cluster id kept (``save_cluster_id``, so the benchmark can score its pairs);
4. ``JsonlReader`` (stage 1's documents) → ``MinhashDedupFilter`` (the removed documents go to
   an ``exclusion_writer``, as in datatrove's example, here Parquet) → ``ParquetWriter``;
   one task per stage-1 task (the ``.remove`` files are per stage-1 rank).

Why the comparison is fair:

* same input: the same folder thresher reads (``.warc.gz`` crawls, ``.html`` pages, ``.txt``
  dumps). WARC files go through datatrove's own ``WarcReader`` (which, like any of its readers,
  gives each task whole files: one large WARC file is one task). datatrove ships readers for
  WARC, JSONL, Parquet, CSV and the Hub but none for a folder of HTML files, so
  :class:`PageFolderReader` is the smallest ``BaseDiskReader`` subclass that yields one
  document per file (datatrove shards the file list over tasks, as for any reader);
* same extraction engine: datatrove's ``Trafilatura`` step with its defaults
  (``favour_precision=True``, comments off, each page in its sandbox process with a 1 s
  timeout) except ``deduplicate=False``: trafilatura's dedup cache is process-wide and drops a
  paragraph it has already seen more than twice, so on a corpus where pages share text the
  output (and the near-dup job after it) would depend on page order. thresher and the
  trafilatura-alone line of the benchmark use ``deduplicate=False`` too.
  Text dumps skip extraction in both systems (datatrove's idiom: a second reader after the
  extractor appends its documents to the stream); thresher also runs its text rules on them;
* same dedup parameters as thresher: word 5-grams, 128 hashes in 32 bands of 4 rows, 32-bit
  hashes (``MinhashConfig(n_grams=5, num_buckets=32, hashes_per_bucket=4, precision 32)``),
  one config object for all stages. datatrove removes every band match; thresher also checks
  each candidate's estimated Jaccard (>= 0.5) and does exact and repeated-paragraph dedup.
  Shingles use datatrove's default English word tokenizer (spaCy's, ``spacy.blank("en")``),
  or with ``--tokenizer split`` a whitespace split after datatrove's own normalisation, which
  is several times cheaper and closer to thresher's ``\\w+`` tokens;
* same parallelism: ``workers`` processes (2, like thresher's pool), plus the extraction
  sandbox process datatrove starts per task;
* same accounting: the pool's workers are children of multiprocess's fork server, which is
  waited for at the end (:func:`_reap_forkserver`), so their CPU time and memory are counted
  like thresher's workers (without it datatrove's CPU per page read about 7x too low);
* output: datatrove writes its default Parquet (snappy, text, id, metadata); thresher writes
  more (raw snapshots, duplicates, rejects, signatures, manifest), which is work datatrove
  does not do here.

Prints one JSON line: documents read, extracted, dropped, removed as duplicates and written,
from datatrove's own stats.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.readers import JsonlReader, WarcReader
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.pipeline.writers import JsonlWriter, ParquetWriter
from datatrove.utils.hashing import HashConfig
from datatrove.utils.typeshelper import Languages
from datatrove.utils.word_tokenizers import WordTokenizer

# thresher's dedup parameters (thresher/dedup.py: SHINGLE_WORDS, BANDS x ROWS, uint32 signatures)
MINHASH = MinhashConfig(n_grams=5, num_buckets=32, hashes_per_bucket=4, hash_config=HashConfig(precision=32))


class PageFolderReader(BaseDiskReader):
    """One document per file (HTML page or text dump), decoded as UTF-8 like datatrove's WarcReader
    (invalid bytes replaced instead of dropping the page)."""

    name = "📄 Page folder"

    def read_file(self, filepath: str):
        with self.data_folder.open(filepath, "rb") as f:
            data = f.read()
        with self.track_time():
            # url and date as datatrove's WarcReader gives them, so that one Parquet file can hold
            # documents of both readers (its writer keeps the first document's schema)
            document = self.get_document_from_dict({"text": data.decode("utf-8", errors="replace"), "id": filepath,
                                                    "url": "", "date": ""}, filepath, 0)
        if document:
            yield document


def extractor() -> Trafilatura:
    """datatrove's extraction step as the pipeline uses it (see the module docstring for deduplicate)."""
    return Trafilatura(deduplicate=False)


class SplitTokenizer(WordTokenizer):
    """Words split at whitespace: enough after datatrove's own ``simplify_text`` (lower case,
    punctuation removed, whitespace normalised), which MinhashDedupSignature applies first.
    About what thresher does (``\\w+`` tokens); the default English tokenizer is spaCy's."""

    def word_tokenize(self, text: str) -> list[str]:
        return text.split()

    def sent_tokenize(self, text: str) -> list[str]:
        raise NotImplementedError

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        raise NotImplementedError


def run(raw: Path, out: Path, workers: int, tokenizer: str = "default") -> dict:
    """The four stages on ``raw``; ``tokenizer`` "default" (datatrove's English tokenizer, spaCy)
    or "split" (:class:`SplitTokenizer`) for the MinHash shingles."""
    work = out / "work"
    language = SplitTokenizer() if tokenizer == "split" else Languages.english
    tasks = workers
    readers = []
    if any(raw.rglob("*.warc.gz")):
        readers.append(WarcReader(str(raw), glob_pattern="**/*.warc.gz"))
    if any(raw.rglob("*.html")):
        readers.append(PageFolderReader(str(raw), glob_pattern="**/*.html"))
    stage1 = LocalPipelineExecutor(
        pipeline=[
            *readers,
            extractor(),
            PageFolderReader(str(raw), glob_pattern="**/*.txt"),
            JsonlWriter(str(work / "docs"), compression=None),
            MinhashDedupSignature(output_folder=str(work / "signatures"), config=MINHASH, language=language),
        ],
        tasks=tasks, workers=workers, logging_dir=str(work / "logs/1-signatures"),
    )
    stage2 = LocalPipelineExecutor(
        pipeline=[MinhashDedupBuckets(input_folder=str(work / "signatures"), output_folder=str(work / "buckets"),
                                      config=MINHASH)],
        tasks=MINHASH.num_buckets, workers=workers, logging_dir=str(work / "logs/2-buckets"),
    )
    stage3 = LocalPipelineExecutor(
        pipeline=[MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove_ids"),
                                      config=MINHASH, save_cluster_id=True)],
        tasks=1, workers=1, logging_dir=str(work / "logs/3-clusters"),
    )
    stage4 = LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(work / "docs")),
            MinhashDedupFilter(input_folder=str(work / "remove_ids"), load_cluster_ids=True,
                               exclusion_writer=ParquetWriter(str(out / "removed"))),
            ParquetWriter(str(out / "documents")),
        ],
        tasks=tasks, workers=workers, logging_dir=str(work / "logs/4-filter"),
    )
    s1 = stage1.run()
    stage2.run()
    stage3.run()
    s4 = stage4.run()
    return {"read": _stat(s1, "Page folder", "documents") + _stat(s1, "Warc", "documents"),
            "extracted": _stat(s1, "Trafilatura", "forwarded"),
            "extraction_dropped": _stat(s1, "Trafilatura", "dropped"),
            "extraction_timeouts": _stat(s1, "Trafilatura", "timeout"),
            "duplicates_removed": _stat(s4, "MinHash stage 4", "dropped"),
            "written": _stat(s4, "MinHash stage 4", "forwarded")}


def _stat(stats, step: str, key: str) -> int:
    """Sum of one counter over the steps of that name (the two page readers are both counted)."""
    total = 0
    for s in stats.stats:
        if step in s.name and key in s.stats:
            total += int(s.stats[key].total)
    return total


def extract_files(paths: list[str]) -> dict[str, str]:
    """datatrove's Trafilatura step, defaults untouched, on each file, in one process (its
    ``extract`` is what the step's sandbox calls for every document)."""
    step = Trafilatura()
    no_dedup = Trafilatura(deduplicate=False)
    out = {}
    for p in paths:
        html = Path(p).read_bytes().decode("utf-8", errors="replace")
        out[p] = {"default": step.extract(html) or "", "deduplicate=False": no_dedup.extract(html) or ""}
    return out


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--extract":
        print(json.dumps(extract_files(argv[1:])))
        return
    workers = int(argv[argv.index("--workers") + 1]) if "--workers" in argv else 2
    tokenizer = argv[argv.index("--tokenizer") + 1] if "--tokenizer" in argv else "default"
    raw, out = Path(argv[0]), Path(argv[1])
    result = run(raw.resolve(), out.resolve(), workers, tokenizer)
    _reap_forkserver()
    print(json.dumps(result))


def _reap_forkserver() -> None:
    """Wait for the fork server that started the pool's workers, so that their CPU time and
    memory reach this process's RUSAGE_CHILDREN (and the benchmark's), as a pool started by
    fork would. Without it the fork server is left to exit on its own, unwaited."""
    from multiprocess import forkserver

    forkserver._forkserver._stop()


if __name__ == "__main__":
    main(sys.argv[1:])
