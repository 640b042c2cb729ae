"""Endpoints of /api/v1, one module per tag (as the console has one module per area). Every
endpoint names the user action it performs; its guard checks the caller's role first."""

from fastapi import APIRouter

from service.api.routes import (
    applications,
    cases,
    catalog,
    commerce,
    consent,
    egress,
    jobs,
    ledger,
    notices,
    public,
    qualification,
    quality,
    users,
)

router = APIRouter()
for part in (users, catalog, applications, jobs, egress, ledger, notices, public, quality,
             cases, commerce, consent, qualification):
    router.include_router(part.router)

__all__ = ["router"]
