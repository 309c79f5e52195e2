"""The API's reference page, /api/docs: the OpenAPI document rendered by the app itself.

No script and no outside host: the page is the document (app.extensions[DOCUMENT]) turned
into HTML on the server, in the site's style and the reader's language.
"""

from dataclasses import dataclass, field
from functools import reduce

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from app.features.api import DOCUMENT
from app.features.api.descriptions import (
    ANSWERS,
    DESCRIPTIONS,
    PROBLEM_EXPLANATIONS,
    PROBLEM_MEANINGS,
)
from app.features.api.documented import EVERY_ROUTE, PROBLEM_DESCRIPTION
from app.features.api.problems import PROBLEMS_PATH, TITLES
from app.features.api.summaries import SUMMARIES

bp = Blueprint("apidocs", __name__)

METHODS = ("get", "post", "put", "patch", "delete")
REF_PREFIXES = ("#/components/schemas/", "#/components/responses/")
# JSON Schema's types in words; any other (`null`) is shown as the JSON it is.
TYPE_WORDS = {
    "string": _l("string"),
    "integer": _l("integer"),
    "number": _l("number"),
    "boolean": _l("boolean"),
    "object": _l("object"),
}
ARRAY_OF = _l("array of %(kind)s")
EITHER = _l("%(first)s or %(second)s")
# Where a parameter is sent (OpenAPI's `in`).
LOCATIONS = {"query": _l("query"), "path": _l("path"), "header": _l("header")}
HEADER_NAMES = ("If-Match", "Idempotency-Key")
# The answers every route may give: the page lists them once, not under each route.
GENERIC = {str(status) for status in EVERY_ROUTE}


@dataclass
class Operation:
    """One route and method of the document, as the page shows it."""

    method: str
    path: str
    summary: Markup
    description: Markup = Markup("")
    parameters: list = field(default_factory=list)
    body: Markup | None = None
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


def code(text):
    """Return `text` as HTML code."""
    return Markup("<code>{}</code>").format(text)


def with_code(text):
    """Return `text` as HTML, each part of it in backticks shown as code."""
    parts = str(text).split("`")
    return Markup("").join(code(part) if index % 2 else part for index, part in enumerate(parts))


def headers_as_code(text):
    """Return `text` as HTML, the header names in it (If-Match, Idempotency-Key) as code."""
    html = escape(str(text))
    for name in HEADER_NAMES:
        html = html.replace(name, code(name))
    return Markup(html)  # noqa: S704  (escaped above; the names are constants)


def worded(message, **parts):
    """Return a translated `message` as HTML, its placeholders filled with `parts` (HTML)."""
    return escape(str(message)) % parts


def type_word(kind):
    """Return one JSON Schema type in the reader's words, or as code (`null`)."""
    return escape(str(TYPE_WORDS[kind])) if kind in TYPE_WORDS else code(kind)


def type_of(schema):
    """Return a short, readable type of a JSON Schema as HTML, in the reader's language:
    `string`, `integer or null`, or a link to a schema such as `NoteOut`."""
    if "$ref" in schema:
        name = ref_name(schema["$ref"])
        return Markup('<a href="#schema-{0}"><code>{0}</code></a>').format(name)
    kind = schema.get("type", "object")
    if kind == "array":
        return worded(ARRAY_OF, kind=type_of(schema.get("items", {})))
    kinds = [type_word(each) for each in (kind if isinstance(kind, list) else [kind])]
    return reduce(lambda first, second: worded(EITHER, first=first, second=second), kinds)


def location_of(where):
    """Return where a parameter is sent, in the reader's words."""
    return escape(str(LOCATIONS[where])) if where in LOCATIONS else code(where)


def content_schema(part):
    """Return the type of a request body's or response's first content, or None."""
    for media in part.get("content", {}).values():
        return type_of(media.get("schema", {}))
    return None


def answer_of(status, response, responses):
    """Return (status, description, type) of one documented answer: a problem's as its
    status means it (the problem's own description is the page's, once)."""
    if "$ref" in response:
        response = responses.get(ref_name(response["$ref"]), {})
    description = response.get("description", "")
    if description == PROBLEM_DESCRIPTION and status in PROBLEM_MEANINGS:
        return status, with_code(PROBLEM_MEANINGS[status]), content_schema(response)
    return status, with_code(ANSWERS.get(description, description)), content_schema(response)


def operation_of(path, method, spec_operation, responses, path_parameters=()):
    """Return the page's Operation for one operation of the document."""
    parameters = [
        (p["name"], location_of(p["in"]), p.get("required", False), type_of(p.get("schema", {})))
        for p in [*path_parameters, *spec_operation.get("parameters", [])]
    ]
    answers = sorted(
        answer_of(status, response, responses)
        for status, response in spec_operation.get("responses", {}).items()
        if status not in GENERIC  # the page says those once, at its top
    )
    body = spec_operation.get("requestBody")
    key = f"{method.upper()} {path}"
    return Operation(
        method=method.upper(),
        path=path,
        summary=with_code(SUMMARIES.get(key, spec_operation.get("summary", ""))),
        description=with_code(DESCRIPTIONS.get(key, spec_operation.get("description", ""))),
        parameters=parameters,
        body=content_schema(body) if body else None,
        answers=answers,
    )


def operations(spec):
    """Return the document's operations, by path then method."""
    responses = spec.get("components", {}).get("responses", {})
    return [
        operation_of(path, method, item[method], responses, item.get("parameters", []))
        for path, item in sorted(spec.get("paths", {}).items())
        for method in METHODS
        if method in item
    ]


def refs_in(part):
    """Yield every `$ref` in a part of the document."""
    if isinstance(part, dict):
        for key, value in part.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs_in(value)
    elif isinstance(part, list):
        for item in part:
            yield from refs_in(item)


def used_schemas(spec):
    """Return the names of the schemas the routes use, directly or through a response or
    another schema (flask-smorest adds some no route of Memo's answers with)."""
    components = spec.get("components", {})
    parts = {**components.get("responses", {}), **components.get("schemas", {})}
    pending, used = list(refs_in(spec.get("paths", {}))), set()
    while pending:
        name = ref_name(pending.pop())
        if name not in used:
            used.add(name)
            pending.extend(refs_in(parts.get(name, {})))
    return used


def schemas(spec):
    """Return each schema the routes use: its name and its fields (name, type, required)."""
    found, used = {}, used_schemas(spec)
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        if name not in used:
            continue
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
        problem=with_code(ANSWERS[PROBLEM_DESCRIPTION]),
        generic=[(status, with_code(PROBLEM_MEANINGS[status])) for status in sorted(GENERIC)],
        problems_path=PROBLEMS_PATH,
        problem_types=[
            (name, headers_as_code(title), with_code(PROBLEM_EXPLANATIONS[name]))
            for name, title in TITLES.items()
        ],
    )


@bp.get(PROBLEMS_PATH + "<problem>")
def problem_type(problem):
    """Lead a problem's `type` to its row of the reference page, which explains it."""
    if problem not in TITLES:
        abort(404)
    return redirect(url_for("apidocs.reference", _anchor=f"problem-{problem}"))
