"""办事大厅: service centres → matters, search, and a matter's form (GET shows, POST submits)."""
from __future__ import annotations

from aiohttp import web

from ...errors import InvalidInput, Unprocessable
from ...files.uploads import FileTooLarge
from ...read.catalog import CatalogView
from .. import parse
from ..idempotent import run_form_once
from ..jsonio import path_text, storable
from ..keys import ACTOR, DATABASE, SETTINGS
from ..services import handle, view
from . import forms
from .rendering import render, see_other

MAX_QUERY = 100


async def hall(request: web.Request) -> web.Response:
    q = request.query.get("q", "").strip()[:MAX_QUERY]
    q = q if storable(q) else ""  # nothing can match it
    async with request.app[DATABASE].read() as session:
        shown = view(request, session, CatalogView)
        centers = await shown.centers(request[ACTOR])
        results = await shown.search_matters(q, request[ACTOR]) if q else None
    return render(request, "hall.html", {"q": q, "centers": centers, "results": results})


def _code(request: web.Request) -> str:
    return path_text(request, "code", "matter_not_found", "没有找到该事项")


def _page(request: web.Request, context: dict, status: int = 200) -> web.Response:
    limits = forms.upload_limits(request.app[SETTINGS].files)
    return render(request, "matter.html", {**context, "file_limits": limits}, status=status)


async def matter_page(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        matter = await view(request, session, CatalogView).matter(_code(request), request[ACTOR], to_apply=True)
    return _page(request, {**forms.form_context(matter, {}, {}), "cc": []})


async def submit_matter(request: web.Request) -> web.Response:
    posted = await request.post()
    user = request[ACTOR]
    async with request.app[DATABASE].read() as session:
        matter = await view(request, session, CatalogView).matter(_code(request), user, to_apply=True)
    answers = forms.answers(matter["form"], posted)
    approvers = forms.chosen_approvers(matter["nodes"], posted)
    cc = forms.copied(posted)

    async def submit(session, user):
        command = parse.submit({"matter": matter["code"], "form": answers, "approvers": approvers, "cc": cc})
        application = await handle(request, session, user, command)
        return 303, {"id": application.id}

    try:
        await forms.keep_posted_files(request, matter["form"], posted, answers)
        created = await run_form_once(request, posted, forms.body(answers, approvers, cc), submit)
    except (InvalidInput, Unprocessable, FileTooLarge) as error:
        uploads = await forms.shown_uploads(request, matter["form"], answers)
        context = forms.form_context(matter, answers, approvers, error, posted, uploads)
        return _page(request, {**context, "cc": cc}, status=error.status)
    raise see_other(f"/applications/{created['id']}/progress?notice=submitted")
