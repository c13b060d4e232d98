"""The live coaching web app (``poseit serve``): FastAPI + WebSocket transport around `CoachSession`.

`session` (coaching, transport-free) and `store` (SQLite history) are plain library code; `app`, `routes`,
`security` and `static` are the web layer on top of them.
"""

from poseit.serve.session import CoachSession, EngineOptions
from poseit.serve.settings import Settings


def create_app(settings: Settings | None = None):
    """The FastAPI app (see `poseit.serve.app.create_app`)."""
    from poseit.serve.app import create_app as _create

    return _create(settings)


__all__ = ["CoachSession", "EngineOptions", "Settings", "create_app"]
