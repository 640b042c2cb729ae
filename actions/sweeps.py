"""The platform's periodic work, composed once: the API server's sweeper thread, the workers'
periodic tasks and the `sweep` commands all call these."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts import qualification
from actions import notices as notice_actions
from actions.context import Context
from catalog import applications
from egress import requesting, review
from policies.permissions import Action, permit


def overdue(ctx: Context) -> dict[str, list[int]]:
    """The policy's overdue action on late applications; late egress reviews escalated
    (never approved)."""
    permit(ctx.actor, Action.SWEEP)
    with ctx.transaction() as session:
        done = applications.sweep_overdue(session, ctx.policy)
        done["escalated_egress"] = review.sweep(session, ctx.policy)
    return done


def qualifications(ctx: Context) -> list[int]:
    """Qualify the organizations whose public notice ended."""
    permit(ctx.actor, Action.SWEEP)
    with ctx.transaction() as session:
        return qualification.sweep(session)


def expired_grants(ctx: Context) -> list[int]:
    """End the grants whose period is over; their workspaces are deleted after the commit."""
    permit(ctx.actor, Action.SWEEP)
    with ctx.transaction() as session:
        return applications.expire_grants(session, ctx.data)


def orphan_releases(ctx: Context) -> list[str]:
    """Release folders no committed release owns, older than the policy's orphan_minutes."""
    permit(ctx.actor, Action.SWEEP)
    with ctx.read() as session:
        return requesting.remove_orphans(
            session, ctx.data, dt.timedelta(minutes=ctx.policy.workers.orphan_minutes))


def everything(ctx: Context) -> dict[str, Any]:
    """Every sweep once, each in its own transaction."""
    done: dict[str, Any] = overdue(ctx)
    done["expired_grants"] = expired_grants(ctx)
    done["qualified"] = qualifications(ctx)
    done["orphan_releases"] = orphan_releases(ctx)
    done["mailed"] = notice_actions.send_digests(ctx)
    return done
