"""The FAQ answers (bot/domain/faq.yml) name only what this system shows, and none of the old system's screens.

No trained model, no server: the answers, the hall's templates and the assistant's sources are read as
text, so this runs in either venv (it needs only PyYAML). The answers mark what they name (the header of
bot/domain/faq.yml):

- 【X】 a page, menu, tab, button or link: a text of the hall's pages (backend/web/templates, Jinja and
  markup stripped), a WeCom task card's button (actions/notifications.py task_buttons), a button the
  assistant shows (a "title" in actions/) or an application's status (backend/workflow STATUS_LABELS);
- 「X」 something to say to the assistant: a training example of a non-FAQ intent in data/nlu, or a
  fixed reply the actions recognise (a string literal in actions/);
- “X” a name in another app (the college website, 今日校园, WeChat): not checked.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FAQ_DOMAIN = ROOT / "bot" / "domain" / "faq.yml"
TEMPLATES = ROOT / "backend" / "web" / "templates"

UI_NAME = re.compile(r"【([^】]+)】")
SAID = re.compile(r"「([^」]+)」")
# The old system's screens and words (shared/manual/user-manual.zh.txt) that this system does not have.
OLD_SYSTEM = ("任务中心", "■", "图标", "右上方", "右侧", "我的代办", "当前进度", "用户栏", "实例处理中",
              "办事中心,", "选择办事中心", "网上服务大厅中")


def answers() -> dict[str, str]:
    responses = yaml.safe_load(FAQ_DOMAIN.read_text(encoding="utf-8"))["responses"]
    return {name: "\n".join(v["text"] for v in variants) for name, variants in responses.items()}


def template_texts(source: str) -> set[str]:
    """The visible texts of one template: each run of text between tags and Jinja, plus the string
    values of `{% set … = "…" %}` (a form's button label is passed that way)."""
    source = re.sub(r"\{#.*?#\}", "\n", source, flags=re.S)
    values = set(re.findall(r'\{%-?\s*set\s+\w+\s*=\s*"([^"]+)"\s*-?%\}', source))
    plain = re.sub(r"\{%.*?%\}|\{\{.*?\}\}|<[^>]*>", "\n", source, flags=re.S)
    return values | {line.strip() for line in plain.splitlines() if line.strip()}


def python_strings(path: Path) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def card_buttons() -> set[str]:
    """The titles of actions/notifications.py task_buttons: ("同意", "approve") pairs in its body."""
    tree = ast.parse((ROOT / "actions" / "notifications.py").read_text(encoding="utf-8"))
    function = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "task_buttons")
    return {t.elts[0].value for t in ast.walk(function) if isinstance(t, ast.Tuple) and len(t.elts) == 2
            and isinstance(t.elts[0], ast.Constant) and isinstance(t.elts[0].value, str)}


def assistant_buttons() -> set[str]:
    titles = set()
    for path in (ROOT / "actions").glob("*.py"):
        titles |= set(re.findall(r'"title":\s*"([^"{]+)"', path.read_text(encoding="utf-8")))
    return titles


def status_labels() -> set[str]:
    tree = ast.parse((ROOT / "backend" / "workflow" / "transitions.py").read_text(encoding="utf-8"))
    table = next(n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "STATUS_LABELS" for t in n.targets))
    return {v.value for v in table.values}


@lru_cache(maxsize=None)
def ui_names() -> dict[str, set[str]]:
    hall = set()
    for path in TEMPLATES.glob("*.html"):
        hall |= template_texts(path.read_text(encoding="utf-8"))
    return {"hall pages": hall, "WeCom card buttons": card_buttons(),
            "assistant buttons": assistant_buttons(), "application status": status_labels()}


def shown(name: str, texts: set[str]) -> bool:
    """The name is a whole text, or what a text starts with before its parenthesised note or colon
    (「加签(请其他人员先给出意见)」, 「选择审核人(环节)」, 「退回意见(审批人):…」)."""
    return any(t == name or re.match(re.escape(name) + r"\s*[((::]", t) for t in texts)


@lru_cache(maxsize=None)
def sayable() -> set[str]:
    """Training examples of the non-FAQ intents (entity markup removed), and the actions' string literals."""
    said = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in block and not block["intent"].startswith("faq"):
                for line in block.get("examples", "").splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        said.add(re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line[2:]).strip())
    for path in (ROOT / "actions").glob("*.py"):
        said |= python_strings(path)
    return said


def problems(text: str) -> list[str]:
    found = [f"old system's word {word!r}" for word in OLD_SYSTEM if word in text]
    names = ui_names()
    found += [f"【{name}】 is on no page, card or button of this system" for name in UI_NAME.findall(text)
              if not any(shown(name, texts) for texts in names.values())]
    found += [f"「{phrase}」 is nothing the assistant was taught" for phrase in SAID.findall(text)
              if phrase not in sayable()]
    return found


@pytest.mark.parametrize("name", sorted(answers()))
def test_an_answer_names_only_what_this_system_shows(name):
    assert problems(answers()[name]) == []


def test_the_answers_use_the_markers():
    """Every answer about using the hall, the cards or the chat names at least one of their controls."""
    unmarked = [name for name, text in answers().items()
                if re.search(r"点|打开|按钮", text) and not UI_NAME.search(text)
                and not name.startswith(("utter_faq/jinri", "utter_faq/wecom_identity", "utter_faq/wecom_mobile"))]
    assert unmarked == []


def test_a_returned_applicant_is_told_how_to_edit_and_resubmit():
    text = answers()["utter_faq/returned_what_next"]
    assert "【编辑并重新提交】" in text and "「重新提交」" in text and "【终止流程】" in text


def test_the_manuals_facts_are_kept():
    text = "\n".join(answers().values())
    for fact in ("work.zj-art.com", "87150044", "今日校园", "去认证", "浙江艺术职业学院(浙江公共文化管理学院)"):
        assert fact in text


@pytest.mark.parametrize("old_answer", [
    # The answers before issue 14 (the old system's screens) fail the check.
    "查看和办理待办有两个入口:\n1. 在网上服务大厅的“任务中心”中,点击相关待办任务;\n"
    "打开任务后,选择同意、退回或者加签,填写相关意见后点击右上方的“提交”,就完成了办理。",
    "点击相应流程右侧的 ■ 图标,即可查看流程的详细进度。",
    "在【任务中心】打开任务,点【提交】。",
    "对校务助手说「帮我把申请撤回到草稿箱」。",
])
def test_the_check_fails_on_the_old_systems_words_and_on_controls_that_do_not_exist(old_answer):
    assert problems(old_answer)
