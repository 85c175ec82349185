"""我的申请: the list, 终止流程 (after a confirm page), 编辑并重新提交 after a return, and 进度 with
the applicant's 撤回 and 催办 and anyone's 备注 on it."""
from __future__ import annotations

from typing import Any, Callable, Optional

from aiohttp import web

from ...errors import Conflict, Forbidden, InvalidInput, Unprocessable
from ...files.uploads import FileTooLarge
from ...read.applications import ApplicationsView
from ...read.catalog import CatalogView
from ...workflow import transitions as t
from ...workflow.commands import Command, Resubmit
from .. import parse
from ..idempotent import run_form_once
from ..jsonio import path_id
from ..keys import ACTOR, DATABASE, SETTINGS
from ..services import handle, view
from . import diagram, forms
from .rendering import page_number, render, see_other

PAGE_SIZE = 20
TERMINABLE = (t.RUNNING, t.RETURNED)
NOTICES = {"submitted": "提交成功!", "resubmitted": "已重新提交,流程从第一个环节重新开始。",
           "terminated": "已终止所选申请。", "withdrawn": "已撤回,可以修改后重新提交。",
           "reminded": "已催办,当前环节的办理人会收到提醒。", "commented": "已添加备注。"}


def _application_id(request: web.Request) -> int:
    return path_id(request, "application_not_found", "没有找到申请")


async def application_list(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status not in t.APPLICATION_STATES:
        status = None
    cc = request.query.get("cc") == "1"  # 抄送我的
    page = page_number(request)
    async with request.app[DATABASE].read() as session:
        listing = await view(request, session, ApplicationsView).applications(request[ACTOR], status, PAGE_SIZE,
                                                             (page - 1) * PAGE_SIZE, cc=cc)
    context = {"status": status, "cc": cc, "page": page, "terminable": TERMINABLE, "states": t.APPLICATION_STATES,
               "labels": t.STATUS_LABELS, "notice": NOTICES.get(request.query.get("notice", "")), **listing}
    return render(request, "applications.html", context)


def _ids(posted) -> list[int]:
    raw = posted.getall("ids", [])
    if not raw:
        raise InvalidInput("ids_required", "请先勾选要终止的申请")
    if not all(isinstance(v, str) and v.isdigit() and len(v) <= 18 for v in raw):
        raise InvalidInput("ids_invalid", "所选申请无效,请刷新页面后重试")
    if len(raw) > parse.MAX_TERMINATE:  # before the confirm page reads each one
        raise InvalidInput("too_many_ids", f"一次最多终止 {parse.MAX_TERMINATE} 个申请")
    return list(dict.fromkeys(int(v) for v in raw))


async def terminate(request: web.Request) -> web.Response:
    """First POST shows what will be terminated; the confirm page's POST does it."""
    posted = await request.post()
    ids = _ids(posted)
    user = request[ACTOR]
    if posted.get("confirmed") != "1":
        async with request.app[DATABASE].read() as session:
            shown = view(request, session, ApplicationsView)
            chosen = [await shown.application(user, i) for i in ids]
        return render(request, "terminate_confirm.html", {"applications": chosen})
    reason = posted.get("reason") if isinstance(posted.get("reason"), str) else None
    async with request.app[DATABASE].write() as session:
        await handle(request, session, user, parse.terminate({"ids": ids, "reason": reason}))
    raise see_other("/applications?notice=terminated")


async def _own_returned(request: web.Request, session, returned: bool = True) -> tuple[dict, dict]:
    """The user's own application (returned, unless ``returned`` is False) and its matter."""
    user = request[ACTOR]
    application = await view(request, session, ApplicationsView).application(user, _application_id(request))
    if application["applicant"]["username"] != user.username:
        raise Forbidden("not_applicant", "只有申请人本人可以修改申请")
    if returned and application["status"] != t.RETURNED:
        raise Conflict("application_state", f"申请当前状态为「{application['status_label']}」,只有已退回的申请可以修改后重新提交")
    return application, await view(request, session, CatalogView).matter(application["matter"]["code"], user)


def _edit_page(request: web.Request, context: dict, application: dict, status: int = 200) -> web.Response:
    limits = forms.upload_limits(request.app[SETTINGS].files)
    return render(request, "resubmit.html", {**context, "application": application, "file_limits": limits},
                  status=status)


async def edit_page(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        application, matter = await _own_returned(request, session)
        uploads = await forms.attachments(session, request[ACTOR].id, matter["form"], application["form"])
    context = forms.form_context(matter, application["form"], application["approvers"], uploads=uploads)
    return _edit_page(request, context, application)


async def resubmit(request: web.Request) -> web.Response:
    posted = await request.post()
    async with request.app[DATABASE].read() as session:
        # The state is the workflow's to check: a double click's second POST finds it
        # resubmitted already, and gets the first one's result.
        application, matter = await _own_returned(request, session, returned=False)
    answers = forms.answers(matter["form"], posted)
    approvers = forms.chosen_approvers(matter["nodes"], posted)
    # A matter with 选择审核人 re-checks the choice; others keep their fixed approvers.
    asks = any(node["choose_approver"] for node in matter["nodes"])

    async def resubmit_it(session, user):
        await handle(request, session, user, Resubmit(application["id"], answers, approvers if asks else None))
        return 303, {"id": application["id"]}

    try:
        await forms.keep_posted_files(request, matter["form"], posted, answers)
        await run_form_once(request, posted, forms.body(answers, approvers), resubmit_it)
    except (InvalidInput, Unprocessable, FileTooLarge) as error:
        uploads = await forms.shown_uploads(request, matter["form"], answers)
        context = forms.form_context(matter, answers, approvers, error, posted, uploads)
        return _edit_page(request, context, application, status=error.status)
    raise see_other(f"/applications/{application['id']}/progress?notice=resubmitted")


async def _progress(request: web.Request, status: int = 200, error: Optional[str] = None) -> web.Response:
    async with request.app[DATABASE].read() as session:
        shown = view(request, session, ApplicationsView)
        application = await shown.application(request[ACTOR], _application_id(request))
    context = {"application": application, "diagram": diagram.layout(application),
               "notice": NOTICES.get(request.query.get("notice", "")), "error": error}
    return render(request, "progress.html", context, status=status)


async def progress(request: web.Request) -> web.Response:
    return await _progress(request)


def _move(parser: Callable[[int, dict[str, Any]], Command[Any]], notice: str):
    """A progress page button or form: the command, then back to the page with a notice, or
    the page again with the refusal (already decided, too soon …)."""

    async def handler(request: web.Request) -> web.Response:
        application_id = _application_id(request)
        posted = await request.post()
        body = {key: value for key, value in posted.items() if key in ("text", "reason") and isinstance(value, str)}
        try:
            async with request.app[DATABASE].write() as session:
                await handle(request, session, request[ACTOR], parser(application_id, body))
        except (InvalidInput, Conflict, Forbidden) as error:
            return await _progress(request, error.status, error.message)
        raise see_other(f"/applications/{application_id}/progress?notice={notice}")

    handler.__name__ = f"{notice}_page"
    return handler


withdraw = _move(parse.withdraw, "withdrawn")
remind = _move(parse.remind, "reminded")
comment = _move(parse.comment, "commented")
