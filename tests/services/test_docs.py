"""/docs over plain HTTP: Swagger UI's page names only files the app serves itself (intranet servers
have no internet), those files come with the right content types, and the document the page reads
is the API's own, in OpenAPI 3.0 words for the Swagger UI 4 that swagger-ui-bundle ships."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from swagger_ui_bundle import swagger_ui_path

from bot.main import create_app
from bot.settings import Settings

# Every place an HTML page or its inline script can name another URL.
_QUOTED_URL = re.compile(r"""["'](\w+:)?//""")


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (tag, url)
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append((tag, value))

    def handle_data(self, data: str) -> None:
        if self.lasttag == "script":
            self.scripts.append(data)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    # No database call: /docs and its files need none (the app's engine connects lazily).
    settings = Settings(database_url=f"sqlite:///{tmp_path}/none.db", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, senders={})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client
    await app.state.runtime.engine.dispose()


async def test_docs_page_names_only_local_files_with_their_types(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")  # public, as FastAPI's default page was
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    references = _References()
    references.feed(page.text)

    assert _QUOTED_URL.search(page.text) is None, "the page names a URL on another host"
    by_tag = {tag: url for tag, url in references.urls}
    assert set(by_tag) == {"link", "script"}, references.urls
    expected_types = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    seen = set()
    for _, url in references.urls:
        assert url.startswith("/docs/assets/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = Path(url).suffix
        assert expected_types[suffix] in asset.headers["content-type"], (url, asset.headers["content-type"])
        assert asset.content == (Path(swagger_ui_path) / Path(url).name).read_bytes(), url
        seen.add(suffix)
    assert seen == {".js", ".css", ".png"}  # Swagger UI's script, its style sheet and the favicon
    # The package's other files are not served: its index.html loads an example API from the internet.
    for other in ("index.html", "swagger-ui-bundle.js.map", "../__init__.py"):
        assert (await client.get(f"/docs/assets/{other}")).status_code == 404, other

    [document_url] = re.findall(r"url: '([^']+)'", " ".join(references.scripts))
    assert document_url.startswith("/"), document_url


async def test_docs_document_is_the_api_in_openapi_30(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    [document_url] = re.findall(r"url: '([^']+)'", page.text)
    document = (await client.get(document_url)).json()
    original = (await client.get("/openapi.json")).json()

    assert original["openapi"].startswith("3.1")
    assert document["openapi"] == "3.0.3"
    assert document["paths"].keys() == original["paths"].keys()
    assert document["components"]["schemas"].keys() == original["components"]["schemas"].keys()
    assert "/api/projects/{project_id}" in document["paths"]
    assert '"type": "null"' not in json.dumps(document)
    # The optional `before_id` of the audit log: an integer or null in 3.1, a nullable integer in 3.0.
    [before] = [
        p
        for p in document["paths"]["/api/projects/{project_id}/audit"]["get"]["parameters"]
        if p["name"] == "before_id"
    ]
    assert before["schema"]["type"] == "integer" and before["schema"]["nullable"] is True


async def test_redoc_is_off(client: httpx.AsyncClient) -> None:
    """ReDoc has no local package: the page would load its script from a CDN, so it is not served."""
    assert (await client.get("/redoc")).status_code == 404
