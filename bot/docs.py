"""The API docs page at /docs, with Swagger UI's files served from the installed swagger-ui-bundle
package: intranet servers have no internet, so FastAPI's default page (Swagger UI from a CDN, its
favicon from FastAPI's site) would stay blank there. ReDoc has no such package and is off.

swagger-ui-bundle ships Swagger UI 4, which refuses OpenAPI 3.1 documents ("does not specify a valid
version field"), and FastAPI writes 3.1. So the page reads the same document written as OpenAPI 3.0
(`/docs/openapi-3.0.json`); `/openapi.json` stays the 3.1 original."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
OPENAPI_30_PATH = "/docs/openapi-3.0.json"


# Only the files the page uses: the package also holds an index.html that loads an example API from
# the internet.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def install(app: FastAPI) -> None:
    """Serve /docs and its files; `app` must be made with `docs_url=None, redoc_url=None`."""

    @app.get(f"{ASSETS_PATH}/{{name}}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise HTTPException(status_code=404)
        return FileResponse(Path(swagger_ui_path) / name, media_type=ASSETS[name])

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_30_PATH,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )

    @app.get(OPENAPI_30_PATH, include_in_schema=False)
    async def openapi_30() -> dict[str, Any]:
        return {**as_openapi_30(app.openapi()), "openapi": "3.0.3"}


def as_openapi_30(node: Any) -> Any:
    """`node` (a part of an OpenAPI 3.1 document) in OpenAPI 3.0's words: a `null` type becomes
    `nullable`, `const` a one-value `enum`, a schema's `examples` list its first `example`, numeric
    exclusive bounds the boolean flags. The rest is the same in both."""
    if isinstance(node, list):
        return [as_openapi_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: as_openapi_30(value) for key, value in node.items()}
    for union in ("anyOf", "oneOf"):
        options = out.get(union)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            del out[union]
            out["nullable"] = True
            if len(rest) == 1 and "$ref" not in rest[0]:
                out = {**rest[0], **out}
            elif rest:  # 3.0 ignores a $ref's siblings, so `nullable` stands beside an allOf
                out["allOf" if len(rest) == 1 else union] = rest
    kinds = out.get("type")
    if isinstance(kinds, list):
        named = [kind for kind in kinds if kind != "null"]
        if "null" in kinds:
            out["nullable"] = True
        del out["type"]
        if len(named) == 1:
            out["type"] = named[0]
        elif named:
            out["anyOf"] = [{"type": kind} for kind in named]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if isinstance(out.get("examples"), list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = out.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[limit], out[bound] = value, True
    return out
