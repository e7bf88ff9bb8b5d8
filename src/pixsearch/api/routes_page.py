"""The search page at / and /search, and the key it searches with.

The page calls the public API like any client, so it needs a subscription key.
Unless `page_key` is off, the server gives it one of its own: a real key in the
keys database (stored hashed, named PAGE_KEY_NAME), limited by `page_key_qps`
and `page_key_quota` like any other key, and written into the served HTML.
Every visitor shares it, so its limits bound what the page as a whole costs.

The key is derived from the server secret rather than drawn at random, so that
every worker process (each builds its own app) arrives at the same key without
coordinating, and it survives restarts; a new secret gives a new page key.
"""

from __future__ import annotations

import base64
import hashlib
import html

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pixsearch.api.context import ApiContext
from pixsearch.api.tokens import TokenClaims
from pixsearch.tenancy.keys import KEY_PREFIX

PAGE_KEY_NAME = "pixsearch-page"
_SLOT = "<!--page-config-->"  # where index.html takes the key
_HEADERS = {
    # The HTML carries the key, and a key-carrying page runs only its own scripts.
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'self'; img-src * data: blob:; script-src 'self'; style-src 'self';"
        " connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none';"
        " form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def page_routes(ctx: ApiContext) -> list[Route]:
    """The page's routes; installs (or, when switched off, removes) the page key first."""
    key = install_page_key(ctx)
    meta = f'<meta name="pixsearch-page-key" content="{html.escape(key or "")}">'

    async def page(request: Request) -> Response:
        # Read on each request (it is small): an edited page shows without a restart.
        text = (request.app.state.static / "index.html").read_text(encoding="utf-8")
        return Response(
            text.replace(_SLOT, meta, 1),
            media_type="text/html; charset=utf-8",
            headers=_HEADERS,
        )

    return [Route("/", page), Route("/search", page)]


def derive_page_key(ctx: ApiContext) -> str:
    """A stable secret-dependent key: the signer's HMAC of a fixed claim, hashed once more."""
    signature = ctx.signer.sign(TokenClaims(image_id="PIXSEARCH-PAGE-KEY"))
    digest = hashlib.sha256(b"pixsearch page key\0" + signature.encode()).digest()
    return KEY_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def install_page_key(ctx: ApiContext) -> str | None:
    """The key the page gets, or None when the page brings none (setting off, or keys off)."""
    settings = ctx.settings
    if not settings.page_key:
        # Switched off: a key handed out earlier must stop working too.
        ctx.keys.revoke(PAGE_KEY_NAME)
        return None
    if not settings.require_key:
        return None
    key = derive_page_key(ctx)
    ctx.keys.install(
        PAGE_KEY_NAME,
        key,
        qps=settings.page_key_qps or None,
        monthly_quota=settings.page_key_quota or None,
    )
    return key
