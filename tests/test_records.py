"""Schemas are defined once, every field is described, and docs/datasets.md documents them all."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT
from thresher.records import REJECT_REASONS, SCHEMAS, Reject, make_doc_id, schema_markdown


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_field_has_a_description(name):
    for field in SCHEMAS[name]:
        assert field.metadata and field.metadata[b"description"], field.name


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_docs_document_every_column(name):
    docs = (ROOT / "docs" / "datasets.md").read_text(encoding="utf-8")
    section = docs.split(f"## `{name}/`", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
    assert documented == set(SCHEMAS[name].names)
    assert schema_markdown(name) in section, "docs/datasets.md table out of date: regenerate with `thresher schema`"


def test_docs_document_every_reject_reason():
    docs = (ROOT / "docs" / "datasets.md").read_text(encoding="utf-8")
    for reason in REJECT_REASONS:
        assert f"`{reason}`" in docs


def test_doc_id_is_stable_and_depends_on_path_and_bytes():
    assert make_doc_id("a.txt", "ab") == make_doc_id("a.txt", "ab")
    assert len({make_doc_id("a.txt", "ab"), make_doc_id("b.txt", "ab"), make_doc_id("a.txt", "cd")}) == 3


def test_unknown_reject_reason_is_a_bug():
    with pytest.raises(ValueError):
        Reject("weird", "x")
