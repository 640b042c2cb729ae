"""To-dos and notices of the signed-in user; the header's count; where notices are e-mailed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from actions import notices as notice_actions
from actions import users as user_actions
from policies.errors import DomainError
from service.web.base import Form, Member, back, context, home_of, member, render
from service.web.i18n import Said

router = APIRouter(include_in_schema=False)

# Where each kind of to-do is done.
TODO_PAGES = {
    "applications_to_review": "/review", "egress_to_review": "/review",
    "applications_to_amend": "/applications", "egress_to_answer": "/egress",
    "grants_ending": "/workspace", "open_alerts": "/admin/alerts", "escalated": "/applications",
    "classifications_to_confirm": "/provider", "previews_failed": "/provider",
    "applications_to_check": "/applications", "quality_to_answer": "/quality",
    "quality_overdue": "/quality", "cases_to_handle": "/cases",
}


def _page(request: Request, m: Member, email_error: str = "", status: int = 200) -> HTMLResponse:
    ctx = context(request, m)
    todos = notice_actions.todos(ctx)
    notes = notice_actions.notices(ctx)
    for note in notes:
        note["link"] = notice_actions.page(note["subject"], m.actor.role)
    email = user_actions.me(ctx).get("email")
    return render(request, "todo.html", m, todos=todos, notes=notes, pages=TODO_PAGES,
                  email=email, email_error=email_error,
                  mail_on=bool(home_of(request).policy.notifications.smtp_host), status=status)


@router.get("/todo", response_class=HTMLResponse)
def todo_page(request: Request, m: Annotated[Member, Depends(member())]) -> HTMLResponse:
    return _page(request, m)


@router.get("/todo/badge", response_class=HTMLResponse)
def todo_badge(request: Request, m: Annotated[Member, Depends(member())]) -> HTMLResponse:
    """The header's link to the to-dos, with their count; it refreshes itself every minute."""
    return render(request, "todo_badge.html", m, counts=notice_actions.summary(context(request, m)))


@router.post("/todo/read", response_model=None)
def todo_read(request: Request, m: Annotated[Member, Depends(member())]) -> Response:
    notice_actions.read_all(context(request, m))
    return back("/todo", "notices_read")


@router.post("/todo/email", response_model=None)
def todo_email(request: Request, m: Annotated[Member, Depends(member())], form: Form) -> Response:
    try:
        user_actions.set_email(context(request, m), None, str(form.get("email", "")))
    except DomainError as exc:
        return _page(request, m, Said(exc), status=422)
    return back("/todo", "email_set")
