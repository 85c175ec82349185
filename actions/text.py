"""Pure helpers that read targets and opinions out of what the user typed."""
from __future__ import annotations

import re
from typing import Optional

import cn2an

APPLICATION_NUMBER = re.compile(r"SW\d{8}-\d{4}", re.IGNORECASE)
ORDINAL = re.compile(r"第\s*([0-9]+|[一二三四五六七八九十两]+)\s*(?:个|条|项|件|号)?")
LAST = re.compile(r"最后(?:一|1)?(?:个|条|项)")

# Command words that open a decision; what follows them (minus targets) is the opinion.
DECISION_WORDS = ("我同意", "同意", "批准", "通过", "可以", "没问题", "我不同意", "不同意", "反对",
                  "退回", "驳回", "打回去", "打回", "退给")
PUNCTUATION = " ,,。.!!;;:：、~～"


def application_number(text: str) -> Optional[str]:
    found = APPLICATION_NUMBER.search(text or "")
    return found.group(0).upper() if found else None


def ordinal(text: str) -> Optional[int]:
    """第2个 → 2, 第三个 → 3, 最后一个 → -1."""
    if LAST.search(text or ""):
        return -1
    found = ORDINAL.search(text or "")
    if not found:
        return None
    raw = found.group(1)
    try:
        return int(raw) if raw.isdigit() else int(cn2an.cn2an(raw.replace("两", "二"), "smart"))
    except (ValueError, KeyError):
        return None


def is_button_payload(text: str) -> bool:
    """A click on a button that names an intent (/approve{"task_id": "12"}), not something typed."""
    return (text or "").lstrip().startswith("/")


def opinion(text: str) -> str:
    """The free text after the command and its target: 「同意第2个,情况属实」 → 「情况属实」.
    A button payload (/approve{"task_id": "12"}) carries none."""
    if is_button_payload(text):
        return ""
    rest = APPLICATION_NUMBER.sub(" ", text or "")
    rest = ORDINAL.sub(" ", rest)
    rest = LAST.sub(" ", rest)
    rest = rest.strip(PUNCTUATION)
    for word in DECISION_WORDS:
        if rest.startswith(word):
            rest = rest[len(word):]
            break
    rest = re.sub(r"^(这个|这条|该申请|申请|任务|一下|吧)+", "", rest.strip(PUNCTUATION))
    return rest.strip(PUNCTUATION)


def number(text: str) -> Optional[float]:
    """3 → 3, 两份 → 2, 三个人 → 3, 1.5天 → 1.5."""
    match = re.search(r"\d+(?:\.\d+)?", text or "")
    if match:
        value = float(match.group(0))
        return int(value) if value.is_integer() else value
    chinese = re.search(r"[零一二两三四五六七八九十百千万半]+", text or "")
    if not chinese:
        return None
    word = chinese.group(0)
    if word == "半":
        return 0.5
    try:
        value = cn2an.cn2an(word.replace("两", "二"), "smart")
    except (ValueError, KeyError):
        return None
    return int(value) if float(value).is_integer() else value


CORRECTION = re.compile(r"(?:把|将)?(?P<what>.+?)(?:改成|改为|换成|改到|修改为|变成)(?P<value>.+)")


def correction(text: str) -> Optional[tuple[str, str]]:
    """「把时间改成后天」 → ("时间", "后天")."""
    found = CORRECTION.search((text or "").strip(PUNCTUATION))
    if not found:
        return None
    what = re.sub(r"^(刚才|之前|前面)?(的)?", "", found.group("what")).strip(PUNCTUATION)
    return what, found.group("value").strip(PUNCTUATION)


def person_mentions(text: str, known_names: list[str]) -> list[str]:
    """Names as typed: full names found in the text, else 王老师-style surname mentions."""
    found = [name for name in known_names if name and name in text]
    if found:
        return found
    return re.findall(r"([\u4e00-\u9fa5])(?:老师|主任|处长|科长|书记|院长|同学)", text or "")
