def test_healthz(client):
    assert client.get("/healthz").json["status"] == "ok"


def test_me_with_token(client, customer):
    response = client.get("/api/v1/me", headers=customer.headers)
    assert response.status_code == 200
    assert response.json["customer_id"] == customer.profile_id


def test_rollback_isolation_a(client):
    r = client.post("/api/v1/accounts/customers", json={"email": "iso@example.test", "password": "long enough pw", "display_name": "I"})
    assert r.status_code == 201, r.json


def test_rollback_isolation_b(client):
    r = client.post("/api/v1/accounts/customers", json={"email": "iso@example.test", "password": "long enough pw", "display_name": "I"})
    assert r.status_code == 201, r.json
