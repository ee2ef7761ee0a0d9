"""One error shape for every error: each ScryError is mapped, each HTTP error code of the spec has the shape."""

from __future__ import annotations

import inspect
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning
from starlette.requests import Request
from starlette.routing import Route

from scrywatch import errors
from scrywatch.app import create_app
from scrywatch.web.errors import STATUS
from tests.support import PASSWORD, Account, LiveServer, make_config
from tests.test_accounts import MakeServer

with warnings.catch_warnings():
    # Starlette 1.x asks for its httpx2 fork; the TestClient works the same over httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

SPEC_CODES = {400: "validation_error", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
              413: "payload_too_large", 415: "unsupported_media_type", 429: "rate_limited", 500: "internal",
              503: "unavailable", 405: "method_not_allowed"}  # 405 is not in the spec's list, same shape
SUBCLASSES = [cls for _, cls in inspect.getmembers(errors, inspect.isclass)
              if issubclass(cls, errors.ScryError) and cls.__module__ == errors.__name__]


def assert_shape(r: httpx.Response, status: int) -> dict[str, Any]:
    """Exactly {error: {code, message, details}, request_id}, with the spec's code for the status."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == SPEC_CODES[status]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    for detail in body["error"]["details"]:
        assert set(detail) == {"field", "message"} and all(isinstance(v, str) for v in detail.values())
    assert body["request_id"].startswith("req_") and len(body["request_id"]) == 30
    assert body["request_id"] == r.headers["x-request-id"]
    return body  # type: ignore[no-any-return]


def test_every_scry_error_has_a_status() -> None:
    assert len(SUBCLASSES) >= 11
    missing = [cls.__name__ for cls in SUBCLASSES if cls not in STATUS]
    assert not missing, f"add these to scrywatch/web/errors.py STATUS: {missing}"
    for cls in SUBCLASSES:
        if STATUS[cls] != 500:
            assert SPEC_CODES[STATUS[cls]] == cls.code, cls


# -- each status over a real server ------------------------------------------------------------
def test_400_names_the_field(server: LiveServer) -> None:
    with server.client() as c:
        body = assert_shape(c.post("/api/auth/register", json={"email": "a@example.com", "password": "short",
                                                               "name": "A"}), 400)
        assert body["error"]["details"][0]["field"] == "password"
        body = assert_shape(c.post("/api/auth/register", content=b"{not json",
                                   headers={"Content-Type": "application/json"}), 400)
        assert body["error"]["details"][0]["field"] == "body"


def test_401(server: LiveServer) -> None:
    with server.client() as c:
        assert_shape(c.get("/api/auth/me"), 401)


def test_403(server: LiveServer, account: Account) -> None:
    with server.client() as c:
        assert_shape(c.post("/api/auth/register", json={"email": "b@example.com", "password": PASSWORD,
                                                        "name": "B"}), 403)


def test_404_for_unknown_routes_and_unknown_orgs(server: LiveServer, account: Account) -> None:
    with server.client() as c:
        assert_shape(c.get("/api/no/such/route"), 404)
    assert_shape(account.client.get("/api/orgs/nope/members"), 404)


def test_409(account: Account) -> None:
    assert_shape(account.client.post(f"/api/orgs/{account.org}/projects", json={"name": "Default"}), 409)


def test_413_for_a_body_over_the_limit(server: LiveServer) -> None:
    big = json.dumps({"email": "a@example.com", "password": PASSWORD, "name": "x" * (1024 * 1024 + 10)})
    with server.client() as c:
        assert_shape(c.post("/api/auth/register", content=big, headers={"Content-Type": "application/json"}), 413)
        # Without a Content-Length the body is counted as it streams in.
        chunks = iter([big[i:i + 65536].encode() for i in range(0, len(big), 65536)])
        assert_shape(c.post("/api/auth/register", content=chunks, headers={"Content-Type": "application/json"}), 413)


def test_415_for_a_body_that_is_not_json(server: LiveServer) -> None:
    with server.client() as c:
        body = assert_shape(c.post("/api/auth/register", content=b"<x/>", headers={"Content-Type": "text/xml"}), 415)
    assert body["error"]["details"][0]["field"] == "Content-Type"


def test_429_carries_retry_after(make_server: MakeServer) -> None:
    server = make_server(auth={"login_max_failures": 1})
    with server.client() as c:
        c.post("/api/auth/login", json={"email": "a@example.com", "password": "wrong password"})
        r = c.post("/api/auth/login", json={"email": "a@example.com", "password": "wrong password"})
    assert_shape(r, 429)
    assert int(r.headers["retry-after"]) > 0


def test_405_is_json_too(server: LiveServer) -> None:
    with server.client() as c:
        assert_shape(c.delete("/api/auth/me"), 405)


# -- 500 and every error class, in-process -----------------------------------------------------
@pytest.fixture
def crashing_client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(make_config(tmp_path / "data"))

    async def crash(request: Request) -> None:
        raise RuntimeError("secret detail /etc/passwd at line 42")

    async def raise_error(request: Request) -> None:
        cls = next(c for c in SUBCLASSES if c.__name__ == request.path_params["name"])
        raise cls("raised on purpose", field="thing", retry_after_s=7)

    app.router.routes.append(Route("/api/test/crash", crash, methods=["GET", "POST"]))
    app.router.routes.append(Route("/api/test/raise/{name}", raise_error, methods=["GET"]))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_500_is_generic_and_leaks_nothing(crashing_client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    for method in ("GET", "POST"):
        r = crashing_client.request(method, "/api/test/crash")
        body = assert_shape(r, 500)  # type: ignore[arg-type]
        assert body["error"]["details"] == []
        for leak in ("secret", "passwd", "RuntimeError", "Traceback", "line 42", ".py"):
            assert leak not in r.text
    # The traceback goes to the log under the request id.
    logged = [rec for rec in caplog.records if rec.exc_info and body["request_id"] in rec.getMessage()]
    assert logged, "the 500 must be logged with its request id"


@pytest.mark.parametrize("cls", SUBCLASSES, ids=lambda c: c.__name__)
def test_each_error_class_renders_the_shape(crashing_client: TestClient, cls: type[errors.ScryError]) -> None:
    r = crashing_client.get(f"/api/test/raise/{cls.__name__}")
    status = STATUS[cls]
    body = assert_shape(r, status)  # type: ignore[arg-type]
    if status == 500:
        assert body["error"]["details"] == [] and "raised on purpose" not in r.text
        return
    assert body["error"]["message"] == "raised on purpose"
    assert body["error"]["details"] == [{"field": "thing", "message": "raised on purpose"}]
    if status in (429, 503):
        assert r.headers["retry-after"] == "7"
