"""bot/rasa_patches.py loads the trained model for prediction only (no training step, no optimizer),
predicts through the traced TensorFlow function (fix 10) and runs the model's graphs without dask
(fix 12): it must understand every message and predict every next action exactly as Rasa's own
loading and prediction do, with far less memory.

Each loading runs in a process of its own, as the server does (the fix is global, and loading
a model imports libraries whose warnings are not ours)."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from devtools.stack import MODEL, RASA_BIN, ROOT

MESSAGES = ["你好", "我有什么待办", "怎么打开校务服务网", "加签是什么意思", "我要请假", "帮我申请公章使用",
            "退回是什么意思", "查看我的申请进度", "同意", "今天天气怎么样", "企业微信怎么关注"]


def understanding(fixed: bool) -> dict:
    run = subprocess.run([str(RASA_BIN / "python"), "-W", "ignore", "-m", "tests.bot.test_model_loading",
                          "fixed" if fixed else "rasa", str(MODEL)], cwd=ROOT, capture_output=True, text=True,
                         timeout=600, env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_prediction_only_loading_understands_as_rasas_loading_in_less_memory():
    rasas, ours = understanding(fixed=False), understanding(fixed=True)
    assert ours["parsed"] == rasas["parsed"]
    assert ours["predicted"] == rasas["predicted"]
    assert {action for action, _ in rasas["predicted"]} >= {"utter_greet", "action_list_tasks"}, rasas["predicted"]
    # Every graph run went through dask in Rasa's way and through none in ours (fix 12).
    assert rasas["dask_runs"] >= 2 * len(MESSAGES) and ours["dask_runs"] == 0, (rasas["dask_runs"], ours["dask_runs"])
    # DIET for every message and the selector for those that may be questions (fix 7 is not
    # applied here: for all), each through the traced function after its first (loading's) call.
    assert (rasas["traced_calls"], ours["traced_calls"]) == (0, 2 * len(MESSAGES)), ours
    assert {intent for intent, *_ in rasas["parsed"]} >= {"greet", "faq", "list_tasks", "request_matter"}
    assert ours["rss_mb"] < rasas["rss_mb"] - 200, (ours["rss_mb"], rasas["rss_mb"])


def parse_in_this_process(fixed: bool, model: str) -> None:
    import dask
    from rasa.core.agent import load_agent
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.tensorflow.models import RasaModel

    from bot import rasa_patches

    rasas_calls, all_calls, dask_runs = [], [], []
    dasks_get = dask.get

    def counted_dask_get(*args, **kwargs):
        dask_runs.append(1)
        return dasks_get(*args, **kwargs)

    dask.get = counted_dask_get
    if fixed:
        DaskGraphRunner.run = rasa_patches.running_nodes_in_order
        RasaModel.load = rasa_patches.loading_for_prediction_only(RasaModel.__dict__["load"])
        rasas_predict = RasaModel._rasa_predict

        def counted_rasas(model, batch):  # the way Rasa predicts: tf.function's signature matching
            rasas_calls.append(1)
            return rasas_predict(model, batch)

        predict = rasa_patches.predicting_through_the_traced_function(counted_rasas)

        def counted(model, batch):
            all_calls.append(1)
            return predict(model, batch)

        RasaModel._rasa_predict = counted

    async def parse_all() -> list:
        agent = await load_agent(model_path=model)
        assert agent.is_ready(), "the model did not load"
        parsed = [await agent.parse_message(text) for text in MESSAGES]
        for text, parse_data in zip(MESSAGES, parsed):  # the next action after each message, as a conversation's first
            tracker = DialogueStateTracker.from_events("test", [
                ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                UserUttered(text, parse_data["intent"], parse_data["entities"], parse_data)], agent.domain.slots)
            prediction = agent.processor._predict_next_with_tracker(tracker)
            predicted.append((agent.domain.action_names_or_texts[prediction.max_confidence_index],
                              round(prediction.max_confidence, 5)))
        return [(p["intent"]["name"], round(p["intent"]["confidence"], 5),
                 [(r["name"], round(r["confidence"], 5)) for r in p["intent_ranking"][:3]],
                 sorted((e["entity"], e["value"]) for e in p["entities"]),
                 p["response_selector"]["faq"]["response"]["intent_response_key"],
                 round(p["response_selector"]["faq"]["response"]["confidence"], 5)) for p in parsed]

    predicted: list = []
    parsed = asyncio.run(parse_all())
    rss_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:"))
    print(json.dumps({"parsed": parsed, "predicted": predicted, "dask_runs": len(dask_runs), "rss_mb": rss_kb / 1024, "traced_calls": len(all_calls) - len(rasas_calls)},
                     ensure_ascii=False))


if __name__ == "__main__":
    parse_in_this_process(sys.argv[1] == "fixed", sys.argv[2])
