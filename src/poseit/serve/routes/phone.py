"""``/api/phone``: the link a phone opens to use its camera, and its QR code (SVG, made on this server)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from poseit.serve.tls import phone_link, qr_svg

router = APIRouter(prefix="/api")


def _link(request: Request) -> dict:
    s = request.app.state.hub.settings
    return phone_link(s.host, s.port, s.tls, s.token)


@router.get("/phone")
def phone(request: Request) -> dict:
    """The phone's link (``url``: None where the server answers on this machine only) and what it takes."""
    return _link(request)


@router.get("/phone.svg", include_in_schema=False)
def phone_qr(request: Request) -> Response:
    url = _link(request)["url"]
    if url is None:
        raise HTTPException(404, "this server answers on this machine only: no link for a phone")
    return Response(qr_svg(url), media_type="image/svg+xml", headers={"cache-control": "no-store"})
