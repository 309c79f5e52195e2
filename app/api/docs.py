"""The API's reference page, /api/docs: the OpenAPI document rendered by the app itself.

No script and no outside host: the page is the document (app.extensions[DOCUMENT]) turned
into HTML on the server, in the site's style and the reader's language.
"""

from dataclasses import dataclass, field

from flask import Blueprint, current_app, render_template, url_for

from app.api import DOCUMENT
from app.api.summaries import SUMMARIES

bp = Blueprint("apidocs", __name__)

METHODS = ("get", "post", "put", "patch", "delete")
REF_PREFIXES = ("#/components/schemas/", "#/components/responses/")


@dataclass
class Operation:
    """One route and method of the document, as the page shows it."""

    method: str
    path: str
    summary: str
    description: str = ""
    parameters: list = field(default_factory=list)
    body: str | None = None
    answers: list = field(default_factory=list)

    @property
    def anchor(self):
        return f"{self.method}-{self.path}".replace("/", "-").replace("{", "").replace("}", "")


def ref_name(ref):
    """Return the name a `$ref` points at (`#/components/schemas/NoteOut` -> NoteOut)."""
    for prefix in REF_PREFIXES:
        if ref.startswith(prefix):
            return ref.removeprefix(prefix)
    return ref


def type_of(schema):
    """Return a short, readable type of a JSON Schema: `string`, `integer or null`, `NoteOut`."""
    if "$ref" in schema:
        return ref_name(schema["$ref"])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    return " or ".join(kind) if isinstance(kind, list) else kind


def content_schema(part):
    """Return the type of a request body's or response's first content, or None."""
    for media in part.get("content", {}).values():
        return type_of(media.get("schema", {}))
    return None


def answer_of(status, response, responses):
    """Return (status, description, type) of one documented answer."""
    if "$ref" in response:
        response = responses.get(ref_name(response["$ref"]), {})
    return status, response.get("description", ""), content_schema(response)


def operation_of(path, method, spec_operation, responses):
    """Return the page's Operation for one operation of the document."""
    parameters = [
        (p["name"], p["in"], p.get("required", False), type_of(p.get("schema", {})))
        for p in spec_operation.get("parameters", [])
    ]
    answers = sorted(
        answer_of(status, response, responses)
        for status, response in spec_operation.get("responses", {}).items()
    )
    body = spec_operation.get("requestBody")
    key = f"{method.upper()} {path}"
    return Operation(
        method=method.upper(),
        path=path,
        summary=str(SUMMARIES.get(key, spec_operation.get("summary", ""))),
        description=spec_operation.get("description", ""),
        parameters=parameters,
        body=content_schema(body) if body else None,
        answers=answers,
    )


def operations(spec):
    """Return the document's operations, by path then method."""
    responses = spec.get("components", {}).get("responses", {})
    return [
        operation_of(path, method, item[method], responses)
        for path, item in sorted(spec.get("paths", {}).items())
        for method in METHODS
        if method in item
    ]


def schemas(spec):
    """Return each schema of the document: its name and its fields (name, type, required)."""
    found = {}
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        found[name] = [
            (field_name, type_of(field_schema), field_name in required)
            for field_name, field_schema in schema.get("properties", {}).items()
        ]
    return found


@bp.get("/api/docs")
def reference():
    """Show every route of the API, its parameters and answers, from the OpenAPI document."""
    spec = current_app.extensions[DOCUMENT].to_dict()
    return render_template(
        "api/docs.html",
        operations=operations(spec),
        schemas=schemas(spec),
        document_url=url_for("api-docs.openapi_json"),
    )
