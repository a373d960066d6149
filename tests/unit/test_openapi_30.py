"""The OpenAPI 3.1 → 3.0 rewrite that lets swagger-ui-bundle's Swagger UI 4 read FastAPI's document."""

from __future__ import annotations

from typing import Any

import pytest

from bot.docs import as_openapi_30

REF = {"$ref": "#/components/schemas/Task"}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        # Optional[int] as pydantic writes it: the null branch becomes `nullable`.
        (
            {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}], "title": "Id"},
            {"type": "integer", "minimum": 1, "nullable": True, "title": "Id"},
        ),
        # Optional[Model]: 3.0 ignores a $ref's siblings, so the reference goes into an allOf.
        ({"anyOf": [REF, {"type": "null"}]}, {"allOf": [REF], "nullable": True}),
        # Optional[int | str]: the union stays, nullable.
        (
            {"oneOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]},
            {"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True},
        ),
        ({"type": ["string", "null"]}, {"type": "string", "nullable": True}),
        ({"type": ["string", "integer"]}, {"anyOf": [{"type": "string"}, {"type": "integer"}]}),
        ({"const": "ok"}, {"enum": ["ok"]}),
        ({"type": "string", "examples": ["a", "b"]}, {"type": "string", "example": "a"}),
        (
            {"exclusiveMinimum": 0, "exclusiveMaximum": 1.5},
            {"minimum": 0, "exclusiveMinimum": True, "maximum": 1.5, "exclusiveMaximum": True},
        ),
        # Already 3.0: left alone (a union without null, a media type's examples map).
        ({"anyOf": [{"type": "integer"}, REF]}, {"anyOf": [{"type": "integer"}, REF]}),
        ({"examples": {"one": {"value": 1}}}, {"examples": {"one": {"value": 1}}}),
    ],
)
def test_schema_in_30_words(schema: dict[str, Any], expected: dict[str, Any]) -> None:
    assert as_openapi_30(schema) == expected


def test_nested_schemas_are_rewritten_everywhere() -> None:
    document = {
        "paths": {"/x": {"get": {"parameters": [{"schema": {"type": ["integer", "null"]}}]}}},
        "components": {"schemas": {"T": {"properties": {"due": {"anyOf": [REF, {"type": "null"}]}}}}},
    }
    assert as_openapi_30(document) == {
        "paths": {"/x": {"get": {"parameters": [{"schema": {"type": "integer", "nullable": True}}]}}},
        "components": {"schemas": {"T": {"properties": {"due": {"allOf": [REF], "nullable": True}}}}},
    }
