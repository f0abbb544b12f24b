"""What pictures leave in flattened text: captions with credits, file names, toolbar words."""

from __future__ import annotations

from collections.abc import Sequence

from thresher.patterns import Patterns
from thresher.rules.engine import Line, RuleOutput, rule
from thresher.rules.predicates import is_caption, is_image_residue
from thresher.text import word_count

@rule("caption")
def caption(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Image captions: lines ending in a photo credit ("... (Photo: VNA)", "Photo: UN Photo/X",
    "REUTERS/Jane Doe"), BBC-style "Image caption,"/"Image source," lines, and the line right
    after an image residue (a file name or a flattened editor toolbar) when it is caption-sized
    or names positions in the picture ("(center)", "(second from left)"), unless the image
    already had its caption on the line above.

    A sentence that talks about a photo ("He shared a photo of the flood.") has no credit
    label followed by a name at its end, so it stays.
    """
    out = RuleOutput()
    for k, line in enumerate(lines):
        text = line.text
        if is_caption(text, p):
            out.drop(line)
        elif k > 0 and is_image_residue(lines[k - 1].text, p) and word_count(text) <= 45 and not is_image_residue(text, p):
            captioned_before = k > 1 and is_caption(lines[k - 2].text, p)
            if not captioned_before and (". " not in text or p.caption_position.search(text)):
                out.drop(line)
    return out


@rule("image_residue")
def image_residue(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """What an image leaves in flattened text: a bare file name ("unodc.jpg"), editor toolbar
    words run together ("leftcenterrightdel"), "Enlarge this image", "Toggle caption".
    """
    out = RuleOutput()
    for line in lines:
        if is_image_residue(line.text, p):
            out.drop(line)
    return out
