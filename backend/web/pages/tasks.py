"""我的任务: 我的待办 / 已办, a task page, and its decision panel (同意 / 退回, to the applicant or a
passed node / 加签 / 转办 / 委派 — the last three pick people in the same org picker; an added
signer's or a delegate's 同意 / 不同意); on 我的待办, 批量同意 of the ticked tasks."""
from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlencode

from aiohttp import web

from ...errors import AppError, Conflict, InvalidInput
from ...read.people import PeopleView
from ...read.tasks import TasksView
from .. import parse
from ..jsonio import MAX_ID, path_id
from ..keys import ACTOR, DATABASE, SETTINGS
from ..services import handle, view
from . import diagram
from .rendering import page_number, render, see_other

PAGE_SIZE = 20
TABS = {"todo": "pending", "done": "done"}
# The panel's buttons → (the workflow's move, extra body)
ACTIONS = {
    "approve": ("approve", {}),
    "return": ("return", {}),
    "add_signers": ("add_signers", {}),
    "agree": ("sign", {"agree": True}),
    "disagree": ("sign", {"agree": False}),
    "transfer": ("transfer", {}),
    "delegate": ("delegate", {}),
    "add_signers_after": ("add_signers", {"when": "after"}),
    "remove_signers": ("remove_signers", {}),
}
HANDED_TO_ONE = ("transfer", "delegate")  # one person picked in the org picker
NOTICES = {"approve": "已同意,流程已转到下一环节。", "return": "已退回给申请人。",
           "add_signers": "已加签,请等待加签人员给出意见。", "agree": "已提交意见:同意。",
           "disagree": "已提交意见:不同意。", "transfer": "已转办,该任务改由所选人员办理。",
           "delegate": "已委派,对方给出意见后任务会回到您这里。",
           "add_signers_after": "已同意并后加签,加签人员全部同意后本环节通过。", "remove_signers": "已减签。", "returned_to_node": "已退回到所选环节,由该环节重新审批。"}


def _task_id(request: web.Request) -> int:
    return path_id(request, "task_not_found", "没有找到您的任务")


# 已办's filter: the choices of 办理结果 (value → the API's decision list)
DONE_OUTCOMES = [("", "全部"), ("approve,agree", "同意"), ("return", "退回"), ("transfer", "转办"), ("disagree", "不同意")]
DONE_FILTERS = ("decision", "decided_from", "decided_to")


async def task_list(request: web.Request) -> web.Response:
    tab = request.query.get("tab", "todo")
    if tab not in TABS:
        tab = "todo"
    chosen = {name: request.query.get(name, "") for name in DONE_FILTERS} if tab == "done" else {}
    return await _list_page(request, tab, page_number(request), chosen)


async def _list_page(request: web.Request, tab: str, page: int, chosen: dict[str, str], status: int = 200,
                     notice: Optional[str] = None, error: Optional[str] = None) -> web.Response:
    context = {"tab": tab, "page": page, "outcomes": DONE_OUTCOMES, "chosen": chosen, "notice": notice,
               "filter_query": urlencode({k: v for k, v in chosen.items() if v})}
    try:
        where = parse.task_filter(chosen, TABS[tab])
    except InvalidInput as refused:  # a hand-edited address: say so, list nothing
        return render(request, "tasks.html", {**context, "items": [], "has_more": False, "error": refused.message},
                      status=400)
    async with request.app[DATABASE].read() as session:
        tasks = view(request, session, TasksView)
        listing = await tasks.tasks(request[ACTOR], TABS[tab], PAGE_SIZE, (page - 1) * PAGE_SIZE, where)
    return render(request, "tasks.html", {**context, **listing, "error": error}, status=status)


MAX_BATCH = PAGE_SIZE  # the ticked rows of one page
MAX_PENDING = 500  # the pending tasks a batch is checked against (the list pages through far fewer)


async def approve_ticked(request: web.Request) -> web.Response:
    """批量同意: each ticked task approved in its own transaction, as if approved on its page one after
    the other — one that cannot be (decided meanwhile, not this person's) is reported, the others go on."""
    posted = await request.post()
    opinion = posted.get("opinion") if isinstance(posted.get("opinion"), str) else ""
    ticked = list(dict.fromkeys(v for v in posted.getall("task", []) if isinstance(v, str)))
    if not ticked or len(ticked) > MAX_BATCH:
        return await _list_page(request, "todo", 1, {}, 400,
                                error="请先勾选要同意的任务" if not ticked else f"一次最多同意 {MAX_BATCH} 项")
    async with request.app[DATABASE].read() as session:  # numbers for the report, and what is still waiting
        waiting = {str(t["id"]): t["number"] for t in (await view(request, session, TasksView).tasks(
            request[ACTOR], "pending", MAX_PENDING, 0))["items"]}
    done, failed = [], []
    for raw in ticked:
        number = waiting.get(raw)
        if number is None:  # decided meanwhile, or never this person's: said by its number when it is theirs
            failed.append(await _no_longer_waiting(request, raw))
            continue
        try:
            async with request.app[DATABASE].write() as session:
                await handle(request, session, request[ACTOR],
                             parse.decision("approve", int(raw), {"opinion": opinion}))
            done.append(number)
        except AppError as refused:
            failed.append(f"{number}:{refused.message}")
    notice = f"已同意 {len(done)} 项。" if done else None
    error = f"{len(failed)} 项未能同意 —— " + ";".join(failed) if failed else None
    return await _list_page(request, "todo", 1, {}, 200 if done else 409, notice, error)


async def _no_longer_waiting(request: web.Request, raw: str) -> str:
    task_id = int(raw) if raw.isdigit() and len(raw) <= 18 else 0
    if 0 < task_id <= MAX_ID:
        try:
            async with request.app[DATABASE].read() as session:
                task = await view(request, session, TasksView).task(request[ACTOR], task_id)
            return f"{task['number']}:已不在您的待办中({task['decision_label'] or task['status_label']})"
        except AppError:
            pass
    return "没有找到所勾选的任务"


async def _task_page(request: web.Request, task_id: int, status: int = 200, error: Optional[str] = None,
                     kept: Optional[dict[str, Any]] = None) -> web.Response:
    async with request.app[DATABASE].read() as session:
        task = await view(request, session, TasksView).task(request[ACTOR], task_id)
        asks_signers = "add_signers" in task["actions"]
        org = await view(request, session, PeopleView).departments_tree(request.app[SETTINGS].college_name) if asks_signers else None
    notice = NOTICES.get(request.query.get("notice", ""))
    context = {"task": task, "application": task["application"], "diagram": diagram.layout(task["application"]),
               "org": org, "error": error, "notice": notice, "kept": kept or {"opinion": "", "users": []}}
    return render(request, "task.html", context, status=status)


async def task_page(request: web.Request) -> web.Response:
    return await _task_page(request, _task_id(request))


async def decide(request: web.Request) -> web.Response:
    task_id = _task_id(request)
    posted = await request.post()
    action = posted.get("action")
    if action not in ACTIONS:
        raise InvalidInput("bad_action", "请选择要执行的操作")
    move, extra = ACTIONS[action]
    opinion = posted.get("opinion") if isinstance(posted.get("opinion"), str) else ""
    users = [u for u in posted.getall("users", []) if isinstance(u, str) and u]
    to_node = posted.get("to_node") if isinstance(posted.get("to_node"), str) else ""
    body = {"opinion": opinion, "users": users, **extra}
    if action == "return" and to_node:
        body["to_node"], action = to_node, "returned_to_node"
    if move == "approve" and users:  # people picked while approving are copied (抄送)
        body["cc"] = users
    try:
        if move in HANDED_TO_ONE:
            if len(users) != 1:
                raise InvalidInput("to_required", "请在组织架构中选择一位接收人(只能选一位)")
            body["to"] = users[0]
        async with request.app[DATABASE].write() as session:
            await handle(request, session, request[ACTOR], parse.decision(move, task_id, body))
    except (InvalidInput, Conflict) as error:
        kept = {"opinion": opinion, "users": users}
        return await _task_page(request, task_id, error.status, error.message, kept)
    raise see_other(f"/tasks/{task_id}?notice={action}")
