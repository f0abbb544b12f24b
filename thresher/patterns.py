"""The phrase tables the text rules use, loaded from ``data/patterns.toml`` and compiled once.

Site- and language-specific knowledge is data, not code: adding "Baca juga" for Indonesian
sites is an edit of the TOML file. The compiled tables are immutable, and the file's sha256 is
part of ``config_sha256`` so a record says which phrases were in force when it was cleaned.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

_EDGE = " :|-–—•·»>›*#\u2022"


def phrase_key(line: str) -> str:
    """The form a whole-line phrase is compared in: lower case, edge punctuation stripped."""
    return line.strip(_EDGE).strip().casefold()


def _alternation(phrases: list[str]) -> str:
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


def _trie(phrases: list[str]) -> str:
    """The same strings as :func:`_alternation`, as a trie (``photo(?:\\ credit|graph)?``): a
    search then tries the one branch a character can start at each position instead of every
    phrase (the flat alternation of 70 caption labels was most of the caption rule's time on
    real pages). Only where a match is a yes or no: the trie tries phrases in another order."""
    tree: dict = {}
    for phrase in phrases:
        node = tree
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}  # a phrase ends here

    def emit(node: dict) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(tree)


def _whole(regexes: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{r})" for r in regexes), re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class Patterns:
    """Compiled phrase tables; see ``data/patterns.toml`` for what each group means.

    Compared and hashed by identity (``eq=False``), so that rule predicates can memoise on
    ``(line, patterns)`` without hashing every table.
    """

    sha256: str
    chrome_lines: frozenset[str]
    chrome_regex: re.Pattern[str]
    breadcrumb_split: re.Pattern[str]
    breadcrumb_max_words: int
    teaser_headers: frozenset[str]
    inline_teaser: re.Pattern[str]
    caption_trigger: re.Pattern[str]
    caption_label_end: re.Pattern[str]
    caption_prefix: re.Pattern[str]
    caption_credit: re.Pattern[str]
    caption_position: re.Pattern[str]
    image_file: re.Pattern[str]
    image_residue: frozenset[str]
    credit_line: re.Pattern[str]
    credit_author_labels: frozenset[str]
    source_line: re.Pattern[str]
    contributor: re.Pattern[str]
    byline: re.Pattern[str]
    byline_with_role: re.Pattern[str]
    names_list: re.Pattern[str]
    byline_split: re.Pattern[str]
    byline_roles: re.Pattern[str]
    byline_element_prefix: re.Pattern[str]
    org_words: frozenset[str]
    date_label: re.Pattern[str]
    date_words: frozenset[str]
    date_months: frozenset[str]
    date_relative: re.Pattern[str]
    date_label_words: frozenset[str]
    agencies: frozenset[str]
    end_lines: frozenset[str]
    end_suffixes: tuple[str, ...]
    author_bio: re.Pattern[str]
    comment_headers: frozenset[str]
    comment_regex: re.Pattern[str]
    comment_actions: frozenset[str]
    comment_markers: re.Pattern[str]
    footer: re.Pattern[str]


@lru_cache(maxsize=8)
def load_patterns(path: str | None = None) -> Patterns:
    """Read and compile the pattern tables of ``path`` (None: the packaged ``data/patterns.toml``).

    Cached: a config names its tables once, and every page of a run uses the same compiled ones.
    """
    return compile_patterns(patterns_source(path))


def patterns_source(path: str | None = None) -> bytes:
    """The bytes of a patterns file (None: the packaged one): what the archive's config store
    keeps, so that a config can be re-run after the file has changed or gone."""
    return Path(path).read_bytes() if path else resources.files("thresher").joinpath("data/patterns.toml").read_bytes()


def compile_patterns(raw: bytes) -> Patterns:
    """Compile the tables of a patterns file's bytes (UTF-8 TOML)."""
    d = tomllib.loads(raw.decode("utf-8"))
    cap = d["caption"]
    cred = d["credits"]
    by = d["byline"]
    name = r"[A-ZÀ-ÖØ-ÞĀ-ſƀ-ɏА-ЯΑ-Ω][\w'’.\-]*"
    names = rf"{name}(?:\s+(?:{name}|(?:van|von|de|da|del|der|di|du|la|le|bin|binti|al|el)\b))*"
    joiners = _alternation(by["connectors"])
    return Patterns(
        sha256=hashlib.sha256(raw).hexdigest(),
        chrome_lines=frozenset(phrase_key(p) for p in d["chrome"]["lines"]),
        chrome_regex=_whole(d["chrome"]["regex"]),
        breadcrumb_split=re.compile(r"\s+(?:%s)\s+" % _alternation(d["breadcrumb"]["separators"])),
        breadcrumb_max_words=int(d["breadcrumb"]["max_words_per_part"]),
        teaser_headers=frozenset(phrase_key(p) for p in d["teaser"]["headers"]),
        inline_teaser=re.compile(
            r"(?:%s)\s*(?::|\s[-–—|]\s|»|›|>)\s*\S.*" % _alternation(d["teaser"]["inline_prefixes"]), re.IGNORECASE
        ),
        # Every caption pattern needs one of these: a cheap search that spares prose the rest.
        caption_trigger=re.compile(
            r"/|\(|" + _trie(cap["labels"] + cap["prefixes"] + ["getty", "shutterstock", "istock", "alamy", "photo",
                                                               "picture", "image"]),
            re.IGNORECASE,
        ),
        caption_label_end=re.compile(
            r"(?:^|[\s(\[])(?P<open>[(\[])?\s*(?P<label>%s)\s*[:;/]\s*(?P<value>[^()\[\]]{1,80}?)[)\]]?\s*\.?$"
            % _alternation(cap["labels"]),
            re.IGNORECASE,
        ),
        caption_prefix=re.compile(r"(?:%s)\b" % _alternation(cap["prefixes"]), re.IGNORECASE),
        caption_credit=re.compile("|".join(f"(?:{r})" for r in cap["credit_regex"])),
        caption_position=re.compile(cap["position_regex"], re.IGNORECASE),
        image_file=re.compile(
            r"[\w\-. ()%%]{1,120}\.(?:%s)(?:\?\S*)?" % "|".join(d["image"]["extensions"]), re.IGNORECASE
        ),
        image_residue=frozenset(phrase_key(p) for p in d["image"]["residue"]),
        # "Label: Name" for any label; "Label Name" only for "... by" labels ("Reporting by X"),
        # so prose that starts with "Data Center" or "Story Bridge" is not a credit.
        credit_line=re.compile(
            r"(?i:%s)\s*:|(?i:%s)\s+(?=[A-ZÀ-ÞĐ])"
            % (
                _alternation(cred["author_labels"] + cred["labels"]),
                _alternation([x for x in cred["author_labels"] + cred["labels"] if x.endswith(" by")]),
            )
        ),
        credit_author_labels=frozenset(phrase_key(p) for p in cred["author_labels"]),
        source_line=re.compile(r"[(\[]?(?:%s)\s*:\s*(.{1,60}?)[)\]]?\.?" % _alternation(cred["source_labels"]), re.IGNORECASE),
        contributor=_whole(cred["contributor_regex"]),
        byline=re.compile(
            r"(?i:%s):?\s+(%s(?:\s*(?:,|\b(?i:%s)\b)\s*%s)*)(?:(?:\s*[,|/–—-]|\s+(?:at|in)\b)\s*(.{1,60}))?"
            % (_alternation(by["prefixes"]), names, joiners, names)
        ),
        names_list=re.compile(r"%s(?:\s*,\s*%s)*\s*(?:,\s*)?\b(?:%s)\b\s*%s" % (names, names, joiners, names)),
        byline_with_role=re.compile(r"(%s(?:\s*(?:,|\b(?i:%s)\b)\s*%s)*)\s*[|,–—]\s*(.{1,60})" % (names, joiners, names)),
        byline_split=re.compile(r"\s*(?:,|\b(?:%s)\b)\s*" % joiners),
        byline_roles=re.compile(r"(?:%s)\b.*" % _alternation(by["roles"] + d["agencies"]["names"]), re.IGNORECASE),
        # "By", "Posted by", "Author:" opening a byline element of an HTML page
        byline_element_prefix=re.compile(r"^(?i:(?:\w+\s+)?by|%s):?\s+" % _alternation(by["prefixes"] + by["element_prefixes"])),
        org_words=frozenset(w.casefold() for w in by["org_words"]),
        date_label=re.compile(r"(?:%s)\s*:?\s*" % _alternation(d["dates"]["labels"]), re.IGNORECASE),
        date_words=frozenset(w.casefold() for w in d["dates"]["words"] + d["dates"]["months"] + d["dates"]["relative"]),
        date_months=frozenset(w.casefold() for w in d["dates"]["months"]),
        date_relative=re.compile(r"\b(?:%s)\b" % _alternation(d["dates"]["relative"]), re.IGNORECASE),
        date_label_words=frozenset(w.casefold() for label in d["dates"]["labels"] for w in label.split()),
        agencies=frozenset(a.casefold() for a in d["agencies"]["names"]),
        end_lines=frozenset(p.casefold() for p in d["end_markers"]["lines"]),
        end_suffixes=tuple(d["end_markers"]["suffixes"]),
        author_bio=re.compile(by["bio_regex"], re.IGNORECASE),
        comment_headers=frozenset(phrase_key(p) for p in d["comments"]["headers"]),
        comment_regex=_whole(d["comments"]["regex"]),
        comment_actions=frozenset(phrase_key(a) for a in d["comments"]["actions"]),
        comment_markers=re.compile("|".join(f"(?:{r})" for r in d["comments"]["markers"]), re.IGNORECASE),
        footer=_whole(d["footer"]["regex"]),
    )
