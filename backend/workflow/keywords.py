"""A matter's search keywords as the catalogue writes them.

Chinese verb–object words come apart in speech: 请假 is said 「请两天假」, 用车 「用一下学校的车」,
盖章 「盖个章」. A keyword written with 「…」 between its parts (``请…假``) is found with up to
``MAX_GAP`` characters between them; a keyword without it must appear as written.
"""
from __future__ import annotations

import functools
import re

GAP = "…"
MAX_GAP = 6


def is_split(keyword: str) -> bool:
    return GAP in keyword


@functools.lru_cache(maxsize=1024)
def _pattern(keyword: str) -> re.Pattern[str]:
    parts = [re.escape(part) for part in keyword.split(GAP)]
    return re.compile(f"[^,,。;;!!??\\s]{{0,{MAX_GAP}}}?".join(parts))


def keyword_in(keyword: str, text: str) -> bool:
    """Whether ``keyword`` occurs in ``text`` (a split keyword within one clause)."""
    if not is_split(keyword):
        return keyword in text
    if not keyword.strip(GAP):
        return False
    return _pattern(keyword).search(text) is not None
