"""The read-only JSON API and the health check."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings


def build_router(settings: Settings, factory: async_sessionmaker[AsyncSession]) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", tags=["health"])
    async def healthz() -> JSONResponse:
        try:
            async with factory() as session:
                await session.execute(text("SELECT 1"))
        except Exception as error:
            return JSONResponse({"status": "error", "database": repr(error)[:200]}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return router
