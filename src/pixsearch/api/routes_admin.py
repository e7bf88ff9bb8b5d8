"""The admin HTTP API under /admin: custom instances and key usage.

Guarded by the admin_key setting, sent as ``X-Admin-Key`` (or ``Authorization:
Bearer``) and compared in constant time. With no admin key configured the
whole /admin tree answers 404, so a server is never left open by omission.
The key is never logged: it is read here and nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pixsearch.api import errors
from pixsearch.api.context import ApiContext
from pixsearch.api.errors import BingError
from pixsearch.api.instance_defaults import check_defaults
from pixsearch.api.responses import bing_json
from pixsearch.tenancy.instances import InstanceError, InstanceStore, parse_instance

MAX_BODY = 1_000_000


def admin_routes() -> list[Route]:
    return [
        Route("/admin/instances", list_or_create, methods=["GET", "POST"]),
        Route("/admin/instances/{config_id}", one_instance, methods=["GET", "PUT", "DELETE"]),
        Route("/admin/keys", list_keys, methods=["GET"]),
        Route("/admin/keys/{name}/usage", key_usage, methods=["GET"]),
    ]


def _guard(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    expected = ctx.settings.admin_key
    if not expected:
        raise errors.not_found(request.url.path)
    given = request.headers.get("x-admin-key", "")
    bearer = request.headers.get("authorization", "")
    if not given and bearer.lower().startswith("bearer "):
        given = bearer[7:].strip()
    # Equal-length digests keep the comparison constant-time whatever was sent.
    if not hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    ):
        raise errors.unauthorized("The admin key is missing or wrong.")
    return ctx


def _instances(ctx: ApiContext) -> InstanceStore:
    assert ctx.instances is not None, "the composition root always builds the instance store"
    return ctx.instances


async def _body(request: Request) -> object:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise errors.invalid("body", "(too large)", "The instance definition is too large.")
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise errors.invalid("body", raw[:100].decode(errors="replace"), "Not JSON.") from None


def _bad(exc: InstanceError) -> BingError:
    return errors.invalid("body", "", str(exc))


async def list_or_create(request: Request) -> Response:
    ctx = _guard(request)
    store = _instances(ctx)
    if request.method == "GET":
        return bing_json(request, {"instances": [i.to_json() for i in store.list()]})
    try:
        instance = parse_instance(await _body(request), check_defaults=check_defaults)
        store.put(instance, create=True)
    except InstanceError as exc:
        raise _bad(exc) from None
    return bing_json(request, instance.to_json(), status=201)


async def one_instance(request: Request) -> Response:
    ctx = _guard(request)
    store = _instances(ctx)
    config_id = request.path_params["config_id"]
    if request.method == "DELETE":
        if not store.delete(config_id):
            raise errors.not_found(request.url.path)
        return Response(status_code=204)
    if request.method == "PUT":
        try:
            instance = parse_instance(
                await _body(request), config_id=config_id, check_defaults=check_defaults
            )
            store.put(instance)
        except InstanceError as exc:
            raise _bad(exc) from None
        return bing_json(request, instance.to_json())
    found = store.load(config_id)
    if found is None:
        raise errors.not_found(request.url.path)
    return bing_json(request, found.to_json())


async def list_keys(request: Request) -> Response:
    ctx = _guard(request)
    keys = [asdict(info) for info in ctx.keys.list()]
    return bing_json(request, {"keys": keys})


async def key_usage(request: Request) -> Response:
    ctx = _guard(request)
    name = request.path_params["name"]
    if ctx.keys.get(name) is None or ctx.limiter is None:
        raise errors.not_found(request.url.path)
    days = [asdict(day) for day in ctx.limiter.usage(name)]
    return bing_json(request, {"name": name, "days": days})
