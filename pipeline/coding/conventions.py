"""The coding conventions, read from pipeline/data/coder/conventions.json.

When a verb governs another act ("refused to meet", "vowed to strike", "urged Iran to
release", "agreed to lift sanctions", "claimed that Pakistan attacked"), the event coded
depends on the class of the governing verb and the code of the act. The classes and the
code maps are data; docs/EVENT_CODING.md (Conventions) states each with examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from pipeline.coding.lexicon import read_tables

COOPERATIVE = {"03", "04", "05", "06", "07", "08"}
CONFLICT = {"14", "15", "16", "17", "18", "19", "20"}
VIOLENT = {"18", "19", "20"}


@dataclass(frozen=True)
class Conventions:
    commitment_verbs: frozenset[str]  # + a conflict act: a threat; + cooperation: intent
    agree_verbs: frozenset[str]  # the intent is primary, the act a second reading
    refusal_verbs: frozenset[str]  # + cooperation: a rejection (12x)
    failure_verbs: frozenset[str]  # "failed to reach": no event
    cancel_verbs: frozenset[str]  # + a planned visit, meeting or strike
    appeal_verbs: frozenset[str]  # + someone + an act: an appeal (02x)
    demand_verbs: frozenset[str]  # + someone + an act: a demand (10x)
    claim_verbs: frozenset[str]  # + a conflict act: an accusation, the act a second reading
    scheduled_verbs: frozenset[str]  # "is scheduled to attend": intended
    aspect_verbs: frozenset[str]  # "to begin peace talks": the noun is the act
    intent_codes: dict[str, str]
    threat_codes: dict[str, str]
    refusal_codes: dict[str, str]
    cancel_codes: dict[str, str]
    appeal_codes: dict[str, str]
    demand_codes: dict[str, str]
    accuse_codes: dict[str, str]
    instrument_codes: dict[str, str]  # "Russian shelling" -> 194, "car bomb" -> 1832
    consequence_verbs: frozenset[str]  # "shelled Aleppo, killing twelve": one event
    past_events: dict[str, int]  # "the Kosovo war" -> 1999

    def intent(self, code: str, rule_intent: str | None = None) -> str | None:
        """The intent (03x) that announcing an act means: the rule's own, else the
        table's ("agreed to lift sanctions": 0351)."""
        return rule_intent or self.lookup(self.intent_codes, code)

    @staticmethod
    def lookup(table: dict[str, str], code: str) -> str | None:
        """The entry for the longest prefix of `code` that the table lists."""
        for n in range(len(code), 1, -1):
            if code[:n] in table:
                return table[code[:n]]
        return None


def default_conventions_path() -> Path:
    return Path(str(resources.files("pipeline") / "data" / "coder" / "conventions.json"))


@cache
def load_conventions(path: str | None = None) -> Conventions:
    file = Path(path) if path else default_conventions_path()
    return read_tables(Conventions, file, "conventions file")
