from zoneinfo import ZoneInfo

from rasa_sdk import Tracker

from actions.identity import identity_of
from actions.matter_form import APPROVERS, Answer, next_step, steps, summary

COLLEGE_TZ = ZoneInfo("Asia/Shanghai")
SCHEMA = {
    "code": "seal_usage", "name": "公章使用申请",
    "form": [{"key": "seal_type", "label": "印章类型", "type": "choice", "options": ["学校公章"], "required": True},
             {"key": "copies", "label": "用印份数", "type": "number", "required": True},
             {"key": "note", "label": "备注", "type": "text"}],
    "nodes": [{"key": "leader", "name": "分管校领导审批", "choose_approver": True,
               "candidates": [{"username": "t0002", "name": "沈立群", "department": "校领导"}]},
              {"key": "keeper", "name": "印章管理员用印", "choose_approver": False}],
}


def tracker(sender):
    return Tracker(sender, {}, {}, [], False, None, {}, "action_listen")


def test_fields_come_first_then_the_approver_choices():
    assert [(s["kind"], s["key"]) for s in steps(SCHEMA)] == [
        ("field", "seal_type"), ("field", "copies"), ("field", "note"), ("approver", "leader")]


def test_the_next_question_skips_answered_and_skipped_fields():
    assert next_step(SCHEMA, {})["key"] == "seal_type"
    assert next_step(SCHEMA, {"seal_type": "学校公章", "copies": 2, "note": None})["key"] == "leader"
    done = {"seal_type": "学校公章", "copies": 2, "note": None, APPROVERS: {"leader": "t0002"}}
    assert next_step(SCHEMA, done) is None


def test_the_summary_shows_answers_and_the_chosen_approver_by_name():
    text = summary(SCHEMA, {"seal_type": "学校公章", "copies": 2, "note": None, APPROVERS: {"leader": "t0002"}})
    assert "· 印章类型:学校公章" in text and "· 用印份数:2" in text and "备注" not in text
    assert "· 分管校领导审批:沈立群" in text and text.endswith("确认提交吗?")


def test_only_channel_identities_are_trusted():
    assert identity_of(tracker("wecom:zhangwei")) == "wecom:zhangwei"
    assert identity_of(tracker("web:t2001")) == "web:t2001"
    for sender in ["t2001", "rest:t2001", "web:", "default", "x" * 200]:
        assert identity_of(tracker(sender)) is None


async def test_on_resubmit_keep_takes_the_approver_chosen_the_first_time():
    step = steps(SCHEMA)[-1]
    answer = Answer(api=None, who="web:t2001", schema=SCHEMA, data={}, prefill={APPROVERS: {"leader": "t0002"}},
                    zone=COLLEGE_TZ)
    data, error = await answer.convert(step, "保持不变")
    assert error is None and data[APPROVERS] == {"leader": "t0002"}
    fresh = Answer(api=None, who="web:t2001", schema=SCHEMA, data={}, prefill=None, zone=COLLEGE_TZ)
    data, error = await fresh.convert(step, "保持不变")
    assert error and APPROVERS not in data


def test_every_confirm_of_one_summary_sends_one_key_and_a_new_summary_another():
    from actions.matter_form import confirmation_key

    def asked_at(*times):
        events = [{"event": "slot", "name": "pending_confirmation", "value": "submit", "timestamp": t} for t in times]
        events.append({"event": "slot", "name": "pending_confirmation", "value": None, "timestamp": 9.0})
        return Tracker("web:t2001", {}, {}, events, False, None, {}, "action_listen")

    command = ["seal_usage", None, {"copies": 2}, {"leader": "t0002"}]
    first = confirmation_key(asked_at(1.0), command)
    assert first == confirmation_key(asked_at(1.0), command)  # 「确认」 again after a timeout
    assert first != confirmation_key(asked_at(1.0, 5.0), command)  # the summary shown again (a correction)
    assert first != confirmation_key(asked_at(1.0), ["seal_usage", None, {"copies": 3}, {"leader": "t0002"}])
    other = Tracker("web:t2002", {}, {}, asked_at(1.0).events, False, None, {}, "action_listen")
    assert first != confirmation_key(other, command)
