from backend.workflow.keywords import keyword_in


def test_a_plain_keyword_must_appear_as_written():
    assert keyword_in("请假", "我要请假")
    assert not keyword_in("请假", "下周想请两天假")


def test_a_split_keyword_allows_a_few_characters_between_its_parts():
    assert keyword_in("请…假", "下周想请两天假")
    assert keyword_in("请…假", "我要请假")
    assert keyword_in("用…车", "要用一下学校的车")


def test_a_split_keyword_does_not_reach_across_clauses_or_far():
    assert not keyword_in("请…假", "请大家注意,明天放假")
    assert not keyword_in("请…假", "请帮我看看这学期的寒假")  # seven characters between
    assert not keyword_in("…", "任何话")
