"""Browsing service centres and finding the matter a user describes."""
from __future__ import annotations

from rasa_sdk.events import SlotSet

from .base import BaseAction
from .matter_form import opening
from .matter_switch import LEFT_SLOT, SWITCH_SLOT

MENTIONED_AT_MOST = 3  # 「请假」: 请假申请(教职工) and 学生请假


async def mentioned_matters(api, who: str, tracker) -> tuple[list[str], list[str]]:
    """The matters the latest message names (its ``matter`` entities, searched as the hall searches)
    — their codes, at most MENTIONED_AT_MOST — and the words; ([], []) when it names none."""
    words = list(dict.fromkeys(tracker.get_latest_entity_values("matter")))
    if not words:
        return [], []
    found = await api.search_matters(who, " ".join(words))
    return [m["code"] for m in found[:MENTIONED_AT_MOST]], words


class ActionListCenters(BaseAction):
    action_name = "action_list_centers"

    async def act(self, dispatcher, tracker, domain, who):
        centers = await self.api.centers(who)
        lines = ["可以办理的事项(按办事中心):"]
        for center in centers:
            lines.append(f"【{center['name']}】" + "、".join(m["name"] for m in center["matters"]))
        lines.append("直接说想办的事即可,例如「我要请假」「借音乐厅排练」。")
        dispatcher.utter_message(text="\n".join(lines))
        return []


class ActionFindMatter(BaseAction):
    """「我想借音乐厅排练」→ 场地借用. One clear match starts its form; several → buttons.
    What the sentence already says (「下周想请两天假」: 2 days from next Monday) is filled in and
    read back, to be changed like any answer."""

    action_name = "action_find_matter"

    async def act(self, dispatcher, tracker, domain, who):
        code = next(tracker.get_latest_entity_values("matter_code"), None)
        text = tracker.latest_message.get("text", "") or ""
        if not code:
            words = list(tracker.get_latest_entity_values("matter"))
            found = await self.api.search_matters(who, " ".join(words)) if words else []
            if not found:  # the entity may be a fragment (「假」): the whole sentence is searched
                found = await self.api.search_matters(who, text)
            if not found:
                dispatcher.utter_message(text="没有找到相关的事项。说「有哪些事项」可以查看全部可办事项。")
                return [SlotSet("matter_code", None)]
            top = found[0].get("score", 0)
            leaders = [m for m in found if m.get("score", 0) == top]
            if len(leaders) > 1:
                buttons = [{"title": m["name"], "payload": f'/request_matter{{"matter_code": "{m["code"]}"}}'}
                           for m in found[:5]]
                dispatcher.utter_message(text="您要办理的是哪一项?", buttons=buttons)
                return [SlotSet("matter_code", None)]
            code = found[0]["code"]
        schema, kept, form_data, rest = await opening(self.api, who, code, text, tracker.get_slot(LEFT_SLOT),
                                                      self.settings.college_tz)
        dispatcher.utter_message(text=f"好的,我们来办理《{schema['name']}》({schema['center']['name']})。{rest}")
        events = [SlotSet("matter_code", code), SlotSet("form_data", form_data), SlotSet("prefill", None),
                  SlotSet("resubmit_id", None), SlotSet(SWITCH_SLOT, None)]
        return events + ([SlotSet(LEFT_SLOT, None)] if kept else [])
