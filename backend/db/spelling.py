"""How a name is typed on a keyboard without a Chinese input method: its pinyin, whole and by
initials, so the person picker finds 李明 by ``liming`` or ``lm``. A surname may be read several
ways (曾 ceng / zeng, 单 dan / shan): every reading of the first character is kept."""
from __future__ import annotations

from itertools import product

from pypinyin import Style, lazy_pinyin, pinyin

MAX_READINGS = 3  # of the first character (the surname)


def spelling(name: str) -> str:
    """``"liming lm"`` for 李明; lower case, spaces between the ways it may be typed."""
    name = "".join(name.split())
    if not name:
        return ""
    first = [r for r in pinyin(name[0], style=Style.NORMAL, heteronym=True)[0]][:MAX_READINGS]
    rest = lazy_pinyin(name[1:])
    ways: list[str] = []
    for reading in first:
        syllables = [reading, *rest]
        ways += ["".join(syllables), "".join(s[:1] for s in syllables)]
    return " ".join(dict.fromkeys(w.lower() for w in ways if w))


def typed_as_pinyin(query: str) -> bool:
    """A query of Latin letters only may be pinyin (usernames like t1001 have digits)."""
    return query.isascii() and query.isalpha()
