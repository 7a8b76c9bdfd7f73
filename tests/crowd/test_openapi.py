"""The OpenAPI document describes every endpoint: schemas, auth and error responses."""

from openapi_spec_validator import validate


def _spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def test_spec_is_valid_openapi_3(client):
    validate(_spec(client))


def test_every_route_is_documented(app, client):
    documented = set(_spec(client)["paths"])
    for rule in app.url_map.iter_rules():
        path = rule.rule
        # The console (/console) is server-rendered pages for staff, not part of the API; nor
        # are the local storage's presigned URLs (/files/local), authorised by their signature.
        skipped = ("/static", "/api/v1/docs", "/api/v1/openapi.json", "/console", "/files/local/")
        if path.startswith(skipped):
            continue
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", f"{{{arg}}}").replace(f"<{arg}>", f"{{{arg}}}")
            path = path.replace(f"<string:{arg}>", f"{{{arg}}}")
        assert path in documented, f"{rule.rule} is not in the OpenAPI document"


def test_every_operation_documents_errors_and_auth(client):
    spec = _spec(client)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation["responses"]
            assert "default" in responses, f"{method} {path} has no default error"
            assert any(code.startswith("2") for code in responses), f"{method} {path}"
            if operation.get("security"):
                assert {"401", "403"} <= set(responses), f"{method} {path} hides auth errors"
                assert operation["x-roles"], f"{method} {path} declares no roles"
            if method in {"post", "put", "patch"} and "requestBody" in operation:
                assert "422" in responses, f"{method} {path} hides validation errors"


def test_error_responses_are_problem_json(client):
    spec = _spec(client)
    unauthorized = spec["components"]["responses"]["UNAUTHORIZED"]
    assert "application/problem+json" in unauthorized["content"]


def test_docs_page_is_served_offline(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b"/api/v1/docs/assets/" in page.data
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200
