"""Everyday sentences whose matter word is split or implied (issue 16 item 5): the catalogue's
split keywords (请…假, 用…车) find the matter, for the person's kind, over HTTP."""
from urllib.parse import quote

from tests.support.pages import by_testid

TEACHER, STUDENT = "t2001", "s20240101"


async def top(api, who: str, sentence: str) -> list[dict]:
    found = (await api.get(f"/matters?q={quote(sentence)}", who))["items"]
    assert found, (who, sentence)
    return [m for m in found if m["score"] == found[0]["score"]]


async def test_a_split_leave_word_finds_the_leave_for_the_persons_kind(api):
    assert [m["code"] for m in await top(api, TEACHER, "下周想请两天假")] == ["staff_leave"]
    assert [m["code"] for m in await top(api, STUDENT, "明天想请个假")] == ["student_leave"]


async def test_the_schools_car_finds_the_official_car(api):
    for sentence in ("要用一下学校的车", "周五想用个车去杭州", "学校的车能派一辆吗"):
        assert [m["code"] for m in await top(api, TEACHER, sentence)] == ["official_car"], sentence


async def test_the_parts_of_a_split_keyword_must_stand_close_in_one_clause(api):
    found = (await api.get(f"/matters?q={quote('请大家注意,明天放假')}", TEACHER))["items"]
    assert "staff_leave" not in {m["code"] for m in found}, found[:3]


async def test_the_halls_search_box_finds_them_too(hall):
    browser = await hall.browser(TEACHER)
    await browser.get("/?q=" + "要用一下学校的车")
    assert "公务用车申请" in by_testid(browser.html, "search-results")[0]["text"]
    await browser.get("/?q=" + "下周想请两天假")
    results = by_testid(browser.html, "search-results")[0]["text"]
    assert "请假申请(教职工)" in results and "学生请假" not in results
