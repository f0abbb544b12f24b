"""Text rules: the chaff a flattened news page carries around its article, removed by name.

Comes in: text (a dump, or an extractor's output). Goes out: :class:`Cleaned`, the kept
paragraphs, every removal logged under ``rule@version``, and the metadata the rules moved out
of the text (title, authors, credits, agency, date line).

The engine (:mod:`.engine`) applies rules registered by the family modules (chrome, teasers,
media, bylines, tail, headline) in the order a config lists them
(:data:`thresher.config.DEFAULT_RULES`). What the rules look for
(phrases in many languages) lives in ``thresher/data/patterns.toml``; the structure (where in
the page, what follows what) lives in the rules.
"""

from __future__ import annotations

from thresher.rules import bylines, chrome, headline, media, tail, teasers  # noqa: F401  (they register the rules)
from thresher.rules.engine import REGISTRY, Cleaned, Removal, Rule, qualified_names, strip_boilerplate, unknown_rules



__all__ = ["REGISTRY", "Cleaned", "Removal", "Rule", "qualified_names", "strip_boilerplate", "unknown_rules"]
