"""Dedup: cleaned articles in, duplicate decisions out.

Comes in: the articles of a run (their rows, in the shard that cleaned them) and the archive's
memory (paragraph counts per site, signatures of canonical records). Goes out: template
paragraphs removed and logged (:mod:`.templates`), a signature per article
(:mod:`.signatures`), and decisions that move copies to ``duplicates/`` with a link to their
canonical record (:mod:`.clusters`, :mod:`.decide`). Three layers:

* **template paragraphs**: a paragraph a site repeats on many pages is removed first;
* **exact**: identical normalised text (lower case, word tokens only);
* **near**: MinHash signatures over word shingles, LSH banding to find candidates without
  comparing every pair, candidates confirmed by their estimated Jaccard similarity.

An archived canonical is never replaced: history is not rewritten.
"""
