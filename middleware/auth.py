"""API keys and tenants: who is asking, and what their key lets them do.

Every request gets `request.ctx.api_key` (a `keys.ApiKey`: tenant, safe name, models,
read-only scope, rate limits) and `request.ctx.tenant` (frontend/context.py `tenant_of`,
which scopes everything stored). With no key configured auth is off: every request is
`keys.ANONYMOUS` (tenant "").

With keys, a request carries one in `Authorization: Bearer KEY` (the scheme in any case, as
OpenAI accepts) or in Azure's `api-key: KEY` (Authorization wins when both are sent).
Missing, malformed (another scheme, several Authorization headers) or unknown: OpenAI's
401 `invalid_api_key`, whose message never holds more of the key than its first five and
last two characters. A read-only key may only read (GET, HEAD) and count tokens
(`POST .../responses/input_tokens`): anything else is a 403 `insufficient_permissions`.

Left open: CORS preflights (OPTIONS), the kubelet probes `/readyz` and `/livez` always (a
probe carries no key, and a 401 would restart or unroute a healthy pod), and `/health` and
`/metrics` unless AUTH_PROTECT_OPS. Every other path, the Azure routes under `/openai/`
included, needs a key.
"""

from __future__ import annotations

import os

from sanic import Request, Sanic

from frontend.errors import PermissionDenied, Unauthorized

from . import keys

PROBES = frozenset({"/readyz", "/livez"})  # never protected (see the module docstring)
OPS = frozenset({"/health", "/metrics"})  # protected only with AUTH_PROTECT_OPS
READ_METHODS = frozenset({"GET", "HEAD"})
READ_ONLY_POSTS = ("/responses/input_tokens",)  # path endings a read-only key may POST

MISSING = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or in an api-key header. "
    "Ask this server's operator for a key."
)
WRONG_SCHEME = (
    "The Authorization header must use Bearer auth (i.e. Authorization: Bearer YOUR_KEY); "
    "another scheme is not accepted."
)
SEVERAL = "Send one API key: the request has more than one {header} header."
INCORRECT = (
    "Incorrect API key provided: {shown}. Check the key you configured, or ask this "
    "server's operator for one."
)
READ_ONLY = (
    "You have insufficient permissions for this operation. Missing scopes: "
    "api.responses.write. This API key is read-only: it may read (GET) and count input "
    "tokens only."
)


def masked(key: str) -> str:
    """What a message may show of a presented key: its first five and last two characters
    when it is long enough for that to reveal little, else nothing of it."""
    if len(key) >= 16 and key.isascii() and key.isprintable() and " " not in key:
        return f"{key[:5]}***{key[-2:]}"
    return "***"


def presented_key(request: Request) -> str:
    """The key the request carries; Unauthorized when it carries none, or not one clearly."""
    headers = request.headers
    authorization = headers.getall("authorization", [])
    if len(authorization) > 1:
        raise Unauthorized(SEVERAL.format(header="Authorization"))
    if authorization:
        scheme, _, key = authorization[0].strip().partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized(WRONG_SCHEME)
        key = key.strip()
    else:
        api_key = headers.getall("api-key", [])
        if len(api_key) > 1:
            raise Unauthorized(SEVERAL.format(header="api-key"))
        key = api_key[0].strip() if api_key else ""
    if not key:
        raise Unauthorized(MISSING)
    return key


def reads_only(request: Request) -> bool:
    """Whether the request is one a read-only key may make."""
    if request.method in READ_METHODS:
        return True
    return request.method == "POST" and request.path.endswith(READ_ONLY_POSTS)


def register(app: Sanic) -> None:
    config = app.config
    ring = keys.load(
        config.API_KEYS, config.API_KEY_FILE, os.environ.get("VLLM_API_KEY", "")
    )  # a bad key file stops the start (Setting.parse has said so in one line already)
    protect_ops = bool(config.AUTH_PROTECT_OPS)

    def open_path(request: Request) -> bool:
        path = request.path
        return request.method == "OPTIONS" or path in PROBES or (path in OPS and not protect_ops)

    async def authenticate(request: Request) -> None:
        request.ctx.api_key = keys.ANONYMOUS
        request.ctx.tenant = ""
        if not ring or open_path(request):
            return
        presented = presented_key(request)
        grant = ring.match(presented)
        if grant is None:
            raise Unauthorized(INCORRECT.format(shown=masked(presented)))
        if grant.read_only and not reads_only(request):
            raise PermissionDenied(READ_ONLY)
        request.ctx.api_key = grant
        request.ctx.tenant = grant.tenant

    app.register_middleware(authenticate, "request", priority=95)
