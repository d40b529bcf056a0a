"""Which parts of a text are sentences to code.

- A line break is a sentence boundary: `add_line_breaks` puts a spaCy component before
  the parser that starts a sentence after every newline, so a teaser line can never be
  glued to the sentence after it.
- A heading or teaser line ("MORE COVERAGE", "Markets slide [VIDEO]") holds no event: in
  a text of several lines, a line without sentence-final punctuation is not coded.
- Discard phrases (pipeline/data/coder/petrarch_discards.tsv, from Phoenix): a sentence
  naming a sport, a film festival or the like is not coded; a story-level phrase skips
  the whole text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pipeline.coding.dictionary import read_tsv

LINE_BREAKS = "newsevents_line_breaks"
HYPHEN_NAMES = "newsevents_hyphen_names"
# Name particles joined by a hyphen: "al-Shabab", "Hayat Tahrir al-Sham", "bin-Laden".
_PARTICLES = {"al", "el", "ad", "ar", "as", "ash", "at", "az", "ul", "ud", "wal", "bin",
              "ibn", "abu", "abd", "ben", "bint", "de", "du", "von", "van"}  # fmt: skip
# "KYIV, Ukraine (AP) —", "BEIRUT (Reuters) -", "LAGOS, Nigeria —", "MUMBAI:": a place in
# capitals, an optional region, an optional agency, then a dash or a colon.
DATELINE = re.compile(
    r"(?P<lead>\s*)(?P<place>[A-Z][A-Z'.\-]+(?: [A-Z][A-Z'.\-]+){0,3})"
    r"(?:,\s*(?P<region>[A-Z][A-Za-z.'\-]+(?: [A-Z][A-Za-z.'\-]+){0,3}))?"
    r"(?:,?\s*(?:[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?))?"
    r"(?:,?\s*\((?P<agency>[A-Za-z.\- ]{1,20})\))?"
    # the dash or colon; or the line break prepare_text put in its place (then a space)
    r"(?P<sep>\s*(?:--|[-—–:]|\n(?= )))(?=\s)"
)


@dataclass(frozen=True)
class Dateline:
    place: str
    region: str
    start: int  # where the separating dash or colon is
    end: int


def dateline(text: str) -> Dateline | None:
    """The dateline at the start of a text, or of its first paragraph after a headline."""
    offset = 0
    for _ in range(2):
        m = DATELINE.match(text, offset)
        if m and (not m.group("sep").strip().startswith(":") or _is_place(m.group("place"))):
            sep_start, end = m.span("sep")
            dash = sep_start + len(m.group("sep")) - len(m.group("sep").lstrip())
            return Dateline(m.group("place"), m.group("region") or "", dash, end)
        newline = text.find("\n", offset)
        if newline < 0 or newline - offset > 200:
            return None
        offset = newline + 1
    return None


def _is_place(name: str) -> bool:
    """A colon dateline ("MUMBAI:") only for a place the gazetteer knows: "NATO: ..." is
    a headline."""
    from pipeline.geo.gazetteer import load_gazetteer

    return load_gazetteer().locate(name.title()) is not None


def prepare_text(text: str) -> str:
    """The text the parser sees: the same length and offsets as the original, with the
    dash that ends a dateline turned into a line break, so that the dateline is a line
    of its own and never part of an actor ("BANGKOK (AP) — Thailand's army")."""
    found = dateline(text)
    if found is None:
        return text
    return text[: found.start] + "\n" + " " * (found.end - found.start - 1) + text[found.end :]


_FINAL = re.compile(r"""[.!?…]["'”’»)\]]*\s*$|[.!?…]\s*["'”’»]\s*$|:\s*$""")
_TEASER = re.compile(r"\[[A-Z][A-Z ]{1,20}\]\s*$")


def _line_breaks(doc: Any) -> Any:
    for tok in doc[:-1]:
        if "\n" in tok.text or "\n" in tok.whitespace_:
            doc[tok.i + 1].is_sent_start = True
    return doc


def _hyphen_names(doc: Any) -> Any:
    """Merge names joined by hyphens into one token ("al - Shabab" -> "al-Shabab"), so a
    name is one actor, never two fragments. The merged token keeps the parse of its
    head; an entity that covers part of it is extended to all of it."""
    spans = []
    i = 0
    while i < len(doc) - 2:
        left, dash, right = doc[i], doc[i + 1], doc[i + 2]
        joined = not left.whitespace_ and not dash.whitespace_ and dash.text == "-"
        if (
            joined
            and left.is_alpha
            and right.is_alpha
            and (
                left.lower_ in _PARTICLES or (left.text[:1].isupper() and right.text[:1].isupper())
            )
        ):
            end = i + 3
            while (end < len(doc) - 1 and not doc[end - 1].whitespace_ and doc[end].text == "-"
                   and not doc[end].whitespace_ and doc[end + 1].is_alpha):  # fmt: skip
                end += 2
            spans.append(doc[i:end])
            i = end
        else:
            i += 1
    if not spans:
        return doc
    ents = list(doc.ents)
    for span in spans:
        for n, ent in enumerate(ents):
            if ent.start < span.end and span.start < ent.end:
                start, end = min(ent.start, span.start), max(ent.end, span.end)
                ents[n] = _span(doc, start, end, ent.label_)
    doc.ents = _disjoint(ents)
    with doc.retokenize() as retokenizer:
        for span in spans:
            retokenizer.merge(span)
    return doc


def _span(doc: Any, start: int, end: int, label: str) -> Any:
    from spacy.tokens import Span

    return Span(doc, start, end, label=label)


def _disjoint(ents: list[Any]) -> list[Any]:
    out: list[Any] = []
    for ent in sorted(ents, key=lambda e: (e.start, -(e.end - e.start))):
        if out and ent.start < out[-1].end:
            continue
        out.append(ent)
    return out


def add_line_breaks(nlp: Any) -> Any:
    """Add the segmentation components to a loaded pipeline: line breaks before its
    parser, hyphenated names merged after its entity recogniser."""
    from spacy.language import Language

    if not Language.has_factory(LINE_BREAKS):
        Language.component(LINE_BREAKS, func=_line_breaks)
    if not Language.has_factory(HYPHEN_NAMES):
        Language.component(HYPHEN_NAMES, func=_hyphen_names)
    if LINE_BREAKS not in nlp.pipe_names:
        before = "parser" if "parser" in nlp.pipe_names else None
        nlp.add_pipe(LINE_BREAKS, before=before) if before else nlp.add_pipe(LINE_BREAKS)
    if HYPHEN_NAMES not in nlp.pipe_names:
        nlp.add_pipe(HYPHEN_NAMES, last=True)
    return nlp


def heading_lines(text: str) -> list[tuple[int, int]]:
    """Character spans of the lines that are headings, teasers or a dateline, in a text
    of several lines: no sentence-final punctuation, or a trailing tag such as
    "[VIDEO]"."""
    lines = text.split("\n")
    if sum(1 for line in lines if line.strip()) < 2:
        return []
    spans = []
    pos = 0
    for line in lines:
        body = line.strip()
        if body and (not _FINAL.search(body) or _TEASER.search(body)):
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def in_spans(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= start and end <= b + 1 for a, b in spans)


@dataclass(frozen=True)
class Discards:
    sentence: re.Pattern[str] | None
    story: re.Pattern[str] | None

    def skip_sentence(self, text: str) -> bool:
        return bool(self.sentence and self.sentence.search(text))

    def skip_story(self, text: str) -> bool:
        """A story-level phrase skips the story only when it opens it (headline or lede):
        a war report that mentions the World Cup is still a war report."""
        return bool(self.story and self.story.search(text[:300]))


def default_discards_path() -> Path:
    return Path(str(resources.files("pipeline") / "data" / "coder" / "petrarch_discards.tsv"))


def _pattern(phrases: list[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(phrases, key=len)[::-1])
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE)


@cache
def load_discards(path: str | None = None) -> Discards:
    file = Path(path) if path else default_discards_path()
    if not file.is_file():
        return Discards(None, None)
    rows = read_tsv(file)
    return Discards(
        _pattern([r["phrase"] for r in rows if r["scope"] == "sentence"]),
        _pattern([r["phrase"] for r in rows if r["scope"] == "story"]),
    )
