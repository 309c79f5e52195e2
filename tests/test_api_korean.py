"""The API for a Korean developer: JSON as UTF-8 text, problems in Korean under
`Accept-Language: ko`, and a reference page that reads whole on a phone (issue 61)."""

import re

import pytest

KO = {"Accept-Language": "ko"}
HANGUL = re.compile(r"[가-힣]")


def test_json_carries_korean_as_utf8_text_not_escapes(ann_api):
    ann_api.new_note("회의록", "다음 주 일정")
    response = ann_api.get("/notes")
    body = response.get_data()
    assert "회의록".encode() in body and b"\\u" not in body
    assert response.mimetype == "application/json"


@pytest.mark.parametrize(
    ("method", "path", "json", "headers"),
    [
        ("POST", "/notes", {"title": ""}, {}),  # 422: fields
        ("POST", "/notes", {"title": 5, "content": []}, {}),  # 422: wrong types
        ("POST", "/notes", {"title": "t", "content": "c", "extra": 1}, {}),  # 422: unknown
        ("POST", "/notes", None, {"Content-Type": "application/json"}),  # 400: no body
        ("POST", "/notes", None, {"Content-Type": "text/plain"}),  # 415
        ("GET", "/notes/999999", None, {}),  # 404
        ("GET", "/notes?limit=abc", None, {}),  # 422: a query
        ("GET", "/notes?cursor=zzz", None, {}),  # 400: a cursor
        ("PATCH", "/notes/1", {"title": "x"}, {}),  # 428 or 404
        ("DELETE", "/notes", None, {}),  # 405
        ("GET", "/search?q=", None, {}),  # a refused search
    ],
)
def test_every_problem_reads_in_korean_under_accept_language_ko(
    ann_api, method, path, json, headers
):
    ann_api.new_note()
    response = ann_api.call(method, path, json=json, headers={**KO, **headers})
    assert response.status_code >= 400
    problem = response.get_json()
    assert HANGUL.search(problem["title"]), problem
    assert HANGUL.search(problem["detail"]), problem
    for field in problem.get("invalid_params", []):
        assert HANGUL.search(field["reason"]), problem


def test_the_reference_says_the_generic_answers_once_in_korean(app):
    page = app.test_client().get("/api/docs", headers=KO).get_data(as_text=True)
    assert "토큰으로 인증하기" in page and "로그인하기" not in page
    assert "docs/api.md" not in page
    every_route = page.split('id="every-route"')[1].split("</table>")[0]
    assert every_route.count("<tr>") == 10  # its head and the nine statuses
    # A route's own table names only its own answers: 401 is said once, at the top.
    assert page.count("<tr><td>401</td>") == 1
    assert "/api/problems/not-found" in page.split('id="problem-types"')[1]
