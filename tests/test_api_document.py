"""The API's document is its code: /api/v1/openapi.json (OpenAPI 3.1, made by flask-smorest
from the routes and schemas) and /api/docs, the page the app renders from it."""

import re

import pytest

from app.api.summaries import SUMMARIES

API_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def api_routes(app):
    """Return (method, OpenAPI path) of every route of the API blueprint."""
    return {
        (method, re.sub(r"<(?:[^>]*:)?([^:>]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods & API_METHODS
    }


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
    assert len(documented) == 18
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
    summaries = {
        f"{method.upper()} {path}": operation["summary"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method.upper() in API_METHODS
    }
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert {key: str(text) for key, text in SUMMARIES.items()} == summaries
    korean = client.get("/api/docs", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "메모를 휴지통으로 옮겨요." in korean
