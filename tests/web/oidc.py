"""An OpenID Connect provider for the sign-in tests, and a store with a newer private run.

The provider is a small OpenID Connect server written here (OpenID Connect Core 1.0,
authorization-code flow, section 3.1; Discovery 1.0 section 4): it serves a discovery
document, a sign-in form, a token endpoint that checks the client secret and the
one-time code, and its signing key (RS256 ID tokens signed with joserfc, Authlib's JOSE
library). It runs over HTTP on 127.0.0.1 on a free port, as does the dashboard
(the ``serve`` fixture of ``tests/web/conftest.py``), so the dashboard's Authlib client
fetches the discovery document, the token and the keys over real connections and checks
the ID token's signature, issuer, audience, expiry and nonce.
"""

from __future__ import annotations

import base64
import secrets
import shutil
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2 as httpx
import pandas as pd
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gapwatch.store import RESULT_TABLES, open_store
from gapwatch.web.app import create_app
from gapwatch.web.auth import LoginSettings
from gapwatch.web.orgs import AreaMap

PRIVATE_RUN = "zz-private-run"
MARK = "Unsuppressedmarker"
PRIVATE_VALUE = 987654.0
CLIENT_ID = "gapwatch-dashboard"
CLIENT_SECRET = "s3cret-for-tests-only"
USERS = {
    # username: (password, claims)
    "alice": ("alice-pw", {"email": "alice@nhs.example", "areas": ["icb:E54000057"]}),
    "bob": ("bob-pw", {"email": "bob@nhs.example"}),
    # Organisations by ODS code, for the area map: carol's is mapped, dave's is not.
    "carol": ("carol-pw", {"email": "carol@nhs.example", "org_code": "QOP"}),
    "dave": ("dave-pw", {"email": "dave@nhs.example", "org_code": "R0A"}),
}


def publish_copy(store_path: str, folder: Path, run: dict[str, Any]) -> tuple[str, str]:
    copy = str(folder / "two-runs.duckdb")
    shutil.copy(store_path, copy)
    store = open_store(copy)
    try:
        public = store.latest_run()
        assert public is not None
        tables = {table: store.read(table, public).drop(columns=["run_id"]) for table in RESULT_TABLES}
        # Numbers and titles only the private run has, so a page that shows them leaks it.
        tables["indicators"] = tables["indicators"].assign(title=tables["indicators"]["title"] + " " + MARK)
        tables["indicator_values"] = tables["indicator_values"].assign(value=PRIVATE_VALUE)
        with store.writing():
            store.publish({"run_id": PRIVATE_RUN, "name": "management", "finished_at": pd.Timestamp.now(), **run},
                          tables)  # fmt: skip
    finally:
        store.close()
    return copy, public


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _form(body: bytes) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(body.decode()).items()}


def provider(issuer: str) -> Starlette:
    key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
    codes: dict[str, dict[str, Any]] = {}

    async def discovery(request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "email", "profile"],
            }
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse({"keys": [key.as_dict(private=False)]})

    async def authorize(request: Request) -> Response:
        if request.method == "GET":
            asked = dict(request.query_params)
            if asked.get("client_id") != CLIENT_ID or asked.get("response_type") != "code":
                return Response("unknown client", status_code=400)
            hidden = "".join(
                f'<input type="hidden" name="{name}" value="{value}">'
                for name, value in asked.items()
                if name in ("redirect_uri", "state", "nonce", "client_id")
            )
            return HTMLResponse(
                '<form method="post" action="/authorize">'
                f'{hidden}<input name="username" id="username"><input name="password" id="password" '
                'type="password"><button id="sign-in" type="submit">Sign in</button></form>'
            )
        form = _form(await request.body())
        user = USERS.get(str(form.get("username")))
        if user is None or user[0] != form.get("password"):
            return HTMLResponse("wrong password", status_code=401)
        code = secrets.token_urlsafe(16)
        codes[code] = {
            "username": str(form["username"]),
            "nonce": form.get("nonce"),
            "redirect_uri": form.get("redirect_uri"),
        }
        target = f"{form['redirect_uri']}?{urlencode({'code': code, 'state': form.get('state', '')})}"
        return RedirectResponse(target, status_code=302)

    async def token(request: Request) -> Response:
        form = _form(await request.body())
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
        if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = codes.pop(str(form.get("code")), None)  # a code is good once
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": issuer,
            "sub": f"user-{grant['username']}",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **USERS[grant["username"]][1],
        }
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, key)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
            Route("/authorize", authorize, methods=["GET", "POST"]),
            Route("/token", token, methods=["POST"]),
        ]
    )


def sites(
    serve: Any,
    store: str,
    tmp_path: Path,
    claim: str | None = None,
    secret: str = CLIENT_SECRET,
    area_map: AreaMap | None = None,
) -> tuple[str, str, Path]:
    """The provider and the dashboard over ``store``, served; their addresses and the audit log."""
    provider_port = free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    serve(provider(issuer), provider_port)
    audit = tmp_path / "audit.jsonl"
    settings = LoginSettings(
        issuer, CLIENT_ID, secret, audit_log=audit, allowed_areas_claim=claim, area_map=area_map
    )
    dashboard = serve(create_app(store, login=settings), free_port())
    return dashboard, issuer, audit


def sign_in(client: httpx.Client, dashboard: str, username: str, password: str, start: str = "/login") -> Any:
    """Follows the authorization-code flow as a browser would, one redirect at a time."""
    answer = client.get(dashboard + start)
    assert answer.status_code in (302, 303, 307), answer.text
    form_page = client.get(answer.headers["location"])
    assert form_page.status_code == 200
    fields = dict(parse_qs(urlsplit(answer.headers["location"]).query).items())
    hidden = {
        name: values[0]
        for name, values in fields.items()
        if name in ("redirect_uri", "state", "nonce", "client_id")
    }
    sent = client.post(
        str(httpx.URL(answer.headers["location"]).copy_with(query=None)),
        data={**hidden, "username": username, "password": password},
    )
    if sent.status_code != 302:
        return sent
    return client.get(sent.headers["location"])
