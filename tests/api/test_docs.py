"""The API's OpenAPI document and docs page: the API routes only, under the strict CSP."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient


def test_the_openapi_document_describes_the_api_routes_only(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    assert paths == {
        "/api/v1/definitions",
        "/api/v1/submissions",
        "/api/v1/cases/{case_id}",
        "/api/v1/statistics",
    }
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    for methods in document["paths"].values():
        for op in methods.values():
            assert op["security"] == [{"token": []}]
            assert {"401", "403", "429"} <= set(op["responses"])
    submit = document["paths"]["/api/v1/submissions"]["post"]
    assert {"200", "201", "409", "422"} <= set(submit["responses"])
    assert submit["x-scope"] == "submissions:write"
    # The rest of the application keeps OpenAPI off.
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert client.get(path).status_code in (303, 404), path


def test_the_docs_page_lists_every_operation_without_script_or_outside_asset(
    client: TestClient,
) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp
    page = BeautifulSoup(response.text, "html.parser")
    shown = {h.get_text(" ", strip=True) for h in page.select(".api-operation h3")}
    assert shown == {
        "GET /api/v1/definitions",
        "POST /api/v1/submissions",
        "GET /api/v1/cases/{case_id}",
        "GET /api/v1/statistics",
    }
    assert page.select_one("#openapi-link")["href"] == "/api/v1/openapi.json"
    for script in page.find_all("script"):
        assert script.get("src", "").startswith("/static/") and not script.string
    for tag, attribute in (("link", "href"), ("img", "src"), ("script", "src")):
        for element in page.find_all(tag):
            assert not str(element.get(attribute, "")).startswith(("http:", "https:", "//"))
    assert page.find(attrs={"style": True}) is None
    submit = next(s for s in page.select(".api-operation") if "POST" in s.h3.get_text())
    assert "submissions:write" in submit.get_text() and "SubmissionIn" in submit.get_text()


def test_unknown_api_paths_and_methods_answer_json(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = client.delete("/api/v1/definitions")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    # Outside the API, pages stay pages.
    assert client.get("/api/v2/x").headers["content-type"].startswith("text/html")


def test_exactly_the_api_is_exempt_from_csrf_and_answers_json() -> None:
    from intake.api.errors import is_api_path

    assert is_api_path("/api/v1") and is_api_path("/api/v1/submissions")
    for other in ("/api/v10", "/api/v1x/submissions", "/api", "/x/api/v1/", "/API/v1/x"):
        assert not is_api_path(other), other


def test_a_forged_form_post_elsewhere_is_still_refused(client: TestClient) -> None:
    # The API's exemption does not leak: a cross-site post to a page route is refused.
    response = client.post(
        "/language", data={"language": "lt"}, headers={"Origin": "https://elsewhere.example"}
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
