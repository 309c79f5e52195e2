"""Errors are pages for people and JSON for programs; nothing a client sends is a 500."""


def test_unknown_route_is_a_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)


def test_unknown_route_is_json_when_asked(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["status"] == 404
    assert response.json["error"]


def test_wrong_method_is_405(client):
    assert client.delete("/healthz").status_code == 405


def test_missing_csrf_is_json_for_json_clients(user):
    response = user.post(
        "/notes/new", {"title": "x"}, csrf=False, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert "CSRF token is missing" in response.json["error"]


def test_oversized_request_is_413(user):
    response = user.post("/notes/new", {"title": "x", "content": "c" * (11 * 1024 * 1024)})
    assert response.status_code == 413
