"""Event coding: who did what to whom, where and when, from a spaCy parse.

`EventCoder` is the interface the pipeline uses; `load_coder` builds the one a setting
names. The rule coder (`pipeline.coding.rule_coder`) is the shipped implementation.
"""

from pipeline.coding.base import CoderFiles, EventCoder, coder_names, make_coder
from pipeline.coding.rule_coder import CODER_VERSION, RuleCoder, load_rule_coder


def load_coder(name: str = "rules", files: CoderFiles | None = None) -> EventCoder:
    return make_coder(name, files or CoderFiles())


def default_coder(petrarch: bool = True) -> RuleCoder:
    """The rule coder with the shipped data files."""
    return load_rule_coder(None, None, petrarch)


__all__ = [
    "CODER_VERSION",
    "CoderFiles",
    "EventCoder",
    "RuleCoder",
    "coder_names",
    "default_coder",
    "load_coder",
]
