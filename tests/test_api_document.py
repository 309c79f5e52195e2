"""The API's document is its code: /api/v1/openapi.json (OpenAPI 3.1, made by flask-smorest
from the routes and schemas) and /api/docs, the page the app renders from it."""

import ast
import re
from pathlib import Path

import pytest

from app.features.api.descriptions import ANSWERS, DESCRIPTIONS, PROBLEM_EXPLANATIONS
from app.features.api.problems import BY_STATUS, PROBLEMS_PATH, TITLES
from app.features.api.summaries import SUMMARIES
from tests.languages import KOREAN
from tests.reading import latin_words

API_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
API_PACKAGE = Path(__file__).parent.parent / "app" / "features" / "api"
# The calls that give an answer its problem name (their second argument).
NAMING_CALLS = {"Problem", "problem_response"}
HANGUL = re.compile("[\uac00-\ud7a3]")
CODE = re.compile(r"<code>.*?</code>", re.DOTALL)
# Names of standards, written so in Korean too (besides tests/reading.py's JSON and API).
STANDARDS = {"OpenAPI", "RFC"}


def api_routes(app):
    """Return (method, OpenAPI path) of every route of the API blueprint."""
    return {
        (method, re.sub(r"<(?:[^>]*:)?([^:>]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods & API_METHODS
    }


def operations(spec):
    """Return each operation of the document by its "METHOD path"."""
    return {
        f"{method.upper()} {path}": operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method.upper() in API_METHODS
    }


def answer_descriptions(spec):
    """Return the description of every answer the document gives."""
    named, found = spec["components"]["responses"], set()
    for operation in operations(spec).values():
        for answer in operation["responses"].values():
            resolved = named[answer["$ref"].rsplit("/", 1)[1]] if "$ref" in answer else answer
            found.add(resolved["description"])
    return found


def test_the_document_is_openapi_3_1_and_needs_no_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json()["openapi"] == "3.1.0"


def test_the_document_describes_every_route_of_the_api(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method.upper() in API_METHODS
    }
    assert documented == api_routes(app)
    assert len(documented) == 25
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_the_document_says_which_fields_a_note_takes(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert set(schemas["NoteCreate"]["properties"]) == {"title", "content", "completed", "pinned"}
    assert schemas["NoteCreate"]["additionalProperties"] is False
    assert schemas["NoteList"]["properties"]["next_cursor"]["type"] == ["string", "null"]


@pytest.mark.parametrize(("language", "words"), [("en", "API reference"), ("ko", "API 참조")])
def test_the_reference_page_lists_every_route_in_the_readers_language(client, language, words):
    response = client.get("/api/docs", headers={"Accept-Language": language})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f'lang="{language}"' in page and words in page
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in spec["paths"]:
        assert path in page
    assert "<script" not in page.split("</header>")[-1]


def test_each_routes_summary_on_the_page_is_the_documents_in_the_readers_language(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    summaries = {key: operation["summary"] for key, operation in operations(spec).items()}
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert {key: str(text) for key, text in SUMMARIES.items()} == summaries
    korean = client.get("/api/docs", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "메모를 휴지통으로 옮겨요." in korean


def test_each_description_on_the_page_is_the_documents_in_the_readers_language(app, client):
    """Descriptions are compared with their lines joined: a docstring's wrapping is not text."""
    spec = client.get("/api/v1/openapi.json").get_json()
    descriptions = {
        key: " ".join(operation["description"].split())
        for key, operation in operations(spec).items()
        if "description" in operation
    }
    answers = answer_descriptions(spec)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert {key: str(text) for key, text in DESCRIPTIONS.items()} == descriptions
        assert {key: str(text) for key, text in ANSWERS.items()} == {text: text for text in answers}
    trash_days = descriptions["DELETE /api/v1/notes/{note_id}"]
    assert f"{app.config['TRASH_DAYS']} days" in trash_days
    korean = client.get("/api/docs", headers=KOREAN).get_data(as_text=True)
    assert "휴지통에 있는 메모도 읽어요." in korean and "<td>본문 없음</td>" in korean


def test_the_reference_page_reads_wholly_in_korean(client):
    """Code (paths, fields, schemas, headers) is left out: it reads the same in any language."""
    response = client.get("/api/docs", headers=KOREAN)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'lang="ko"' in page
    assert "<code>NoteOut</code></a> 배열" in page and "문자열 또는 <code>null</code>" in page
    assert "<td>경로</td><td>정수</td>" in page and "<td>헤더</td>" in page
    words = latin_words(CODE.sub(" ", page))
    assert [word for word in words if word not in STANDARDS] == []


def test_each_error_status_says_what_it_means_and_the_problem_format_is_told_once(client):
    page = client.get("/api/docs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page.count("A problem (RFC 9457)") == 1
    assert "<td>428</td><td><code>If-Match</code> is missing.</td>" in page
    assert "<td>404</td><td>Nothing of this account&#39;s has that id.</td>" in page
    korean = client.get("/api/docs", headers=KOREAN).get_data(as_text=True)
    assert "<td>429</td><td>요청이 너무 많아요" in korean


def test_the_page_shows_the_schemas_the_routes_use_and_no_others(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"Error", "PaginationMetadata"} <= set(spec["components"]["schemas"])  # flask-smorest's
    page = client.get("/api/docs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="schema-NoteOut"' in page and 'id="schema-ProblemOut"' in page
    assert 'id="schema-Error"' not in page and 'id="schema-PaginationMetadata"' not in page
    linked = set(re.findall(r'href="#(schema-[A-Za-z]+)"', page))
    assert linked and all(f'id="{anchor}"' in page for anchor in linked), "no link goes nowhere"


def emitted_problem_names():
    """Return every problem name the API's code can answer with: the one of each status, and
    each name a Problem or a problem_response is given. Outside problems.py (which passes on
    those) a name must be written out, so that none escapes this list."""
    names = set(BY_STATUS.values())
    for module in API_PACKAGE.glob("*.py"):
        for call in ast.walk(ast.parse(module.read_text())):
            if not isinstance(call, ast.Call) or getattr(call.func, "id", None) not in NAMING_CALLS:
                continue
            if len(call.args) < 2:
                continue  # Problem(status): its status's name
            name = call.args[1]
            if isinstance(name, ast.Constant):
                names.add(name.value)
            else:
                assert module.name == "problems.py", f"{module.name}:{call.lineno} names no type"
    return names


def test_every_problem_type_the_api_answers_with_leads_to_its_explanation(client):
    names = emitted_problem_names()
    assert {"not-found", "insufficient-scope", "idempotency-key-reused", "quota-full"} <= names
    assert names <= set(TITLES) and set(PROBLEM_EXPLANATIONS) == set(TITLES)
    english = client.get("/api/docs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    korean = client.get("/api/docs", headers=KOREAN).get_data(as_text=True)
    for name in names:
        response = client.get(PROBLEMS_PATH + name)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/api/docs#problem-{name}"
        for page in (english, korean):
            row = page.split(f'<tr id="problem-{name}">')[1].split("</tr>")[0]
            assert f"<code>/api/problems/{name}</code>" in row
            assert '<span class="muted">' in row
        assert HANGUL.search(korean.split(f'<tr id="problem-{name}">')[1].split("</tr>")[0])
    row = english.split('<tr id="problem-version-mismatch">')[1].split("</tr>")[0]
    assert "<code>note</code> holds the note as it is now" in row


def test_a_problem_type_the_api_never_answers_with_is_404(client):
    assert client.get(PROBLEMS_PATH + "no-such-problem").status_code == 404
    assert client.get(PROBLEMS_PATH).status_code == 404
