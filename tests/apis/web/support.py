"""Helpers for the web page tests: a browser-like httpx client (cookies, CSRF token from the page's form)."""

from __future__ import annotations

import re
from typing import Any

import httpx

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def web_client(app: Any, language: str | None = "en") -> httpx.AsyncClient:
    """A client of its own (its own cookie jar), over HTTPS so the Secure session cookie travels; its browser
    asks for ``language`` (English by default: most tests read the pages' wording; None asks for none)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("127.0.0.1", 50000))
    headers = {"Accept-Language": language} if language else {}
    return httpx.AsyncClient(transport=transport, base_url="https://testserver", headers=headers)


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    """Open the login page, then post the form with its token; returns the answer to the post."""
    form = await client.get("/ui/login")
    assert form.status_code == 200, form.text
    return await client.post(
        "/ui/login", data={"username": username, "password": password, "csrf_token": csrf_of(form.text)}
    )


async def page_token(client: httpx.AsyncClient, path: str) -> str:
    """The CSRF token of the signed-in session, read from a page as a browser would."""
    answer = await client.get(path)
    assert answer.status_code == 200, answer.text
    return csrf_of(answer.text)
