"""The app factory: `create_app(settings)` composes the routers, the security middleware and the shared hub."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from poseit.serve.hub import Hub
from poseit.serve.routes import analyze, pages, phone, plans, progress, sessions, ws
from poseit.serve.routes.pages import STATIC
from poseit.serve.security import SecurityMiddleware
from poseit.serve.settings import Settings


def create_app(settings: Settings | None = None, hub_factory: Callable[[Settings], Hub] = Hub) -> FastAPI:
    """The web app. Refuses unsafe settings (`Settings.check`); its `Hub` (``hub_factory(settings)``: the
    single-process one, or the cluster's) is made and its models compiled when the app starts."""
    settings = settings or Settings()
    settings.check()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = hub_factory(settings)
        await asyncio.get_running_loop().run_in_executor(None, hub.warm_up)
        app.state.hub = hub
        try:
            yield
        finally:
            hub.close()

    app = FastAPI(title="Pose-It!", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.include_router(pages.router)
    app.include_router(sessions.router)
    app.include_router(plans.router)
    app.include_router(phone.router)
    app.include_router(progress.router)
    app.include_router(analyze.router)
    app.include_router(ws.router)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_middleware(SecurityMiddleware, settings=settings)
    return app


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    """A request that fails validation: 422 with its first problem as one readable line in ``detail`` (the
    page shows it as is), and every problem in ``errors``."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    first = errors[0] if errors else {}
    where = ".".join(str(x) for x in first.get("loc", ()) if x != "body") or "request"
    detail = f"{where}: {str(first.get('msg', 'invalid')).removeprefix('Value error, ')}"
    return JSONResponse({"detail": detail, "errors": jsonable(errors)}, status_code=422)


def jsonable(errors: list) -> list:
    """Validation errors without their (possibly unserialisable) ``ctx`` and ``input``."""
    return [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors]
