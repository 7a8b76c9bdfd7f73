"""Every error is application/problem+json with the right status; no input yields a 500."""

import pytest

PROBLEM = "application/problem+json"


def _assert_problem(response, status):
    assert response.status_code == status
    assert response.content_type == PROBLEM
    body = response.json
    assert body["status"] == status
    assert body["title"] and body["type"].startswith("https://")
    assert "detail" in body
    return body


def test_unknown_path_is_404_problem(client):
    _assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_wrong_method_is_405_with_allow(client):
    response = client.put("/api/v1/me")
    body = _assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    assert body["detail"]


def test_malformed_json_is_400(client):
    response = client.post(
        "/api/v1/accounts/customers", data="{not json", content_type="application/json"
    )
    _assert_problem(response, 400)


@pytest.mark.parametrize(
    "body",
    [None, [], "text", 12, {"email": None}, {"email": ["x"]}, {"password": {"a": 1}}],
)
def test_odd_bodies_are_client_errors(client, body):
    response = client.post("/api/v1/accounts/customers", json=body)
    assert 400 <= response.status_code < 500
    assert response.content_type == PROBLEM


def test_wrong_content_type_is_a_client_error(client):
    response = client.post("/api/v1/accounts/customers", data="email=x", content_type="text/plain")
    assert 400 <= response.status_code < 500
    assert response.content_type == PROBLEM


def test_oversized_body_is_413(client):
    response = client.post(
        "/api/v1/accounts/customers", data="x" * (2 * 1024 * 1024), content_type="application/json"
    )
    _assert_problem(response, 413)


def test_validation_error_lists_fields(client):
    body = _assert_problem(client.post("/api/v1/accounts/customers", json={}), 422)
    assert {"email", "password", "display_name"} <= set(body["errors"]["json"])


def test_bad_query_parameter_is_422(client, customer):
    response = client.get("/api/v1/auth/tokens?include_inactive=maybe", headers=customer.headers)
    body = _assert_problem(response, 422)
    assert "include_inactive" in body["errors"]["query"]


def test_unexpected_exception_is_500_problem_without_internals(app):
    from crowd.core.openapi import CrowdBlueprint

    blp = CrowdBlueprint("boom", __name__)

    @blp.route("/boom-test")
    def boom():
        raise RuntimeError("secret SELECT * FROM users")

    # A throwaway app: registering blueprints on the shared one after first request is refused.
    from crowd import create_app

    other = create_app({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": False})
    other.register_blueprint(blp)
    # A fresh app speaks German (DEFAULT_LOCALE) unless asked otherwise.
    response = other.test_client().get("/boom-test", headers={"Accept-Language": "en"})
    body = _assert_problem(response, 500)
    assert "SELECT" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert body["detail"] == "Something went wrong on our side."


def test_readyz_reports_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"


def test_ids_beyond_bigint_are_404_not_500(client, cm):
    response = client.get(f"/api/v1/members/{2**63}", headers=cm.headers)
    _assert_problem(response, 404)
    response = client.get(f"/api/v1/members/{2**63 - 1}", headers=cm.headers)
    _assert_problem(response, 404)


def test_query_values_the_database_refuses_are_422(client, cm):
    response = client.get(f"/api/v1/staff/jobs?member_id={2**70}", headers=cm.headers)
    assert 400 <= response.status_code < 500
    assert response.content_type == PROBLEM
