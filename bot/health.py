"""Health endpoints: `/livez` (the process answers; touches nothing) and `/readyz` (it can do its
work: the database answers, the platform connections it opens are up, the scheduler knows whether it
leads). `/healthz` is `/readyz` under its old name. Bodies say ok/failing per check and nothing
else: anyone may ask, so the reasons go to the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)

# True when ready; False or an exception when not.
Check = Callable[[], Awaitable[bool]]
# A probe slower than this fails: a hung dependency must not hang the prober too.
CHECK_TIMEOUT_SECONDS = 3.0


async def _passes(name: str, check: Check) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            passed = await check()
    except Exception as error:
        log.warning("readiness: %s failing: %r", name, error)
        return False
    if not passed:
        log.warning("readiness: %s failing", name)
    return passed


def build_router(checks: Mapping[str, Check]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/livez", summary="The process is up (no dependency is asked)")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    async def readyz() -> JSONResponse:
        results = await asyncio.gather(*(_passes(name, check) for name, check in checks.items()))
        ready = all(results)
        body = {
            "status": "ok" if ready else "failing",
            "checks": {
                name: "ok" if passed else "failing" for name, passed in zip(checks, results, strict=True)
            },
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    summary = "Ready to serve: database, platform connections, scheduler leadership"
    router.add_api_route("/readyz", readyz, methods=["GET"], summary=summary)
    router.add_api_route("/healthz", readyz, methods=["GET"], summary="Alias of /readyz")
    return router
