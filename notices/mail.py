"""E-mail digests of notices: one message per user with an address, holding the notices that
arrived since the last digest (kinds of events and ids, links to the console; never data).

Sent by the periodic sweep when the policy names a mail server; each user's mark moves only
after their message was accepted, so a failed send is tried again at the next sweep."""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.users import User
from notices import inbox
from notices.errors import MailUnavailable
from policies import Policy

PASSWORD_ENV = "TDS_SMTP_PASSWORD"
SUBJECTS = {"zh_CN": "数据沙箱通知：{n} 条新消息", "en": "Trusted Data Sandbox: {n} new notices"}
# Words for the events a digest lists (the console has the full vocabulary in both languages).
WORDS = {
    "application.approved": "申请已批准 / application approved",
    "application.deemed_approved": "申请逾期视为批准 / application deemed approved",
    "application.rejected": "申请被驳回 / application rejected",
    "application.returned": "申请退回补正 / application returned for amendment",
    "application.submitted": "新的授权申请 / new application",
    "application.amended": "申请已补正 / application amended",
    "application.escalated": "申请逾期升级 / application escalated",
    "egress.submitted": "新的出域申请 / new egress request",
    "egress.updated": "出域申请已更新 / egress request updated",
    "egress.escalated": "出域审核逾期升级 / egress review escalated",
    "egress.returned": "出域申请被退回 / egress request returned",
    "egress.rejected": "出域申请被驳回 / egress request rejected",
    "release.created": "数据产品已签名发布 / release signed",
    "grant.expired": "授权已到期 / grant expired",
    "grant.revoked": "授权已撤销 / grant revoked",
    "security.alert": "安全告警 / security alert",
    "preview.built": "模拟预览已生成 / simulated preview ready",
    "preview.failed": "模拟预览生成失败 / simulated preview failed",
}
def _link(policy: Policy, user: User, subject: str) -> str:
    return policy.notifications.console_url.rstrip("/") + inbox.page(subject, user.actor().role)


def digest(policy: Policy, user: User, notes: list[dict[str, Any]]) -> EmailMessage:
    """The message telling ``user`` of ``notes`` (newest first)."""
    lang = policy.web.default_language
    message = EmailMessage()
    message["From"] = policy.notifications.smtp_sender
    message["To"] = user.email
    message["Subject"] = SUBJECTS.get(lang, SUBJECTS["en"]).format(n=len(notes))
    lines = [f"{user.name}:", ""]
    for note in reversed(notes):
        lines.append(f"- {note['time'][:16].replace('T', ' ')} UTC  "
                     f"{WORDS.get(note['action'], note['action'])}  {note['subject']}  "
                     f"{_link(policy, user, note['subject'])}")
    lines += ["", "—", "可信数据沙箱 Trusted Data Sandbox"]
    message.set_content("\n".join(lines))
    return message


def _connect(policy: Policy) -> smtplib.SMTP:
    settings = policy.notifications
    try:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
        if settings.smtp_starttls:
            server.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            server.login(settings.smtp_user, os.environ.get(PASSWORD_ENV, ""))
    except (OSError, smtplib.SMTPException) as exc:
        raise MailUnavailable("the mail server {smtp_host}:{smtp_port} could not be used ({name}); "
                              "notices stay in the console and are e-mailed at a later sweep",
                              smtp_host=settings.smtp_host, smtp_port=settings.smtp_port,
                              name=type(exc).__name__) from exc
    return server


def send_digests(session: Session, policy: Policy) -> dict[str, int]:
    """E-mail each user with an address the notices since their last digest. Returns how
    many messages were sent, how many notices they held and how many messages failed (their
    notices go at the next sweep); nothing without a mail server."""
    if not policy.notifications.smtp_host:
        return {"messages": 0, "notices": 0, "failed": 0}
    users = list(session.scalars(select(User).where(User.email.is_not(None),
                                                    User.status == "active").order_by(User.id)))
    pending = []
    for user in users:
        actor = user.actor()
        mark = inbox.mark(session, actor)
        if mark.mailed_seq == 0:  # a new address hears of what comes, not of the past
            mark.mailed_seq = inbox.newest(session)
            continue
        notes = inbox.notices(session, actor, after=mark.mailed_seq, limit=200)
        if notes:
            pending.append((user, mark, notes))
    if not pending:
        return {"messages": 0, "notices": 0, "failed": 0}
    sent = held = failed = 0
    try:
        server = _connect(policy)
    except MailUnavailable:
        return {"messages": 0, "notices": 0, "failed": len(pending)}
    try:
        for user, mark, notes in pending:
            try:
                server.send_message(digest(policy, user, notes))
            except (OSError, smtplib.SMTPException):
                failed += 1  # this user's mark stays: the next sweep tries again
                continue
            mark.mailed_seq = notes[0]["seq"]
            sent, held = sent + 1, held + len(notes)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            server.quit()
    return {"messages": sent, "notices": held, "failed": failed}
