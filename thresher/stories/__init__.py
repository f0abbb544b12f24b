"""Stories: which articles cover the same news event, and what each shares with earlier ones.

This stage runs after dedup and before publishing, on canonical articles only (a duplicate
takes its canonical's story). In: the run's new canonical articles (doc_id, title, text,
site, language, time) and, from the archive's story index, the articles published within the
window of days around them. Out: a story id per new article (:mod:`.clusters`, on the
vectors of :mod:`.features`), the overlaps of each new article with earlier ones
(:mod:`.containment`), and one row per started or extended story (:mod:`.summary`).

Pure functions on plain data and arrays: no files, no clock, no Prefect.
"""

from thresher.stories.clusters import JOIN_THRESHOLD, WINDOW_DAYS, Candidate, Member, assign, story_id_for
from thresher.stories.containment import Overlap, Paragraphs, find_overlaps, paragraphs_of
from thresher.stories.features import StoryVector, cosine, story_vector
from thresher.stories.summary import StoryMember, latest, ranked, story_row

__all__ = [
    "JOIN_THRESHOLD", "WINDOW_DAYS", "Candidate", "Member", "assign", "story_id_for",
    "Overlap", "Paragraphs", "find_overlaps", "paragraphs_of",
    "StoryVector", "cosine", "story_vector",
    "StoryMember", "latest", "ranked", "story_row",
]
