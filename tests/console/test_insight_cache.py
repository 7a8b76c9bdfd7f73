"""Insight's figure cache (console/insight_cache.py): the dashboard and its charts share one
computation per source and filter set, until CONSOLE_INSIGHT_CACHE_SECONDS have passed; other
filters are computed on their own; 0 turns the cache off."""

from __future__ import annotations

import pytest
from redis.exceptions import RedisError

from console import insight, insight_cache
from crowd.core.background import redis_connection
from tests.console.helpers import make_staff, sign_in

PAGE = "/console/insight/"
QUERY = {"from": "2026-01-01", "to": "2026-03-31"}


@pytest.fixture
def calls(app, monkeypatch):
    """How often each source's service ran; the cache on for 60 s, empty to begin with."""
    monkeypatch.setitem(app.config, "CONSOLE_INSIGHT_CACHE_SECONDS", 60)
    counted = {"health": 0, "service": 0}

    def counting(name, service):
        def wrapper(**kwargs):
            counted[name] += 1
            return service(**kwargs)

        return wrapper

    monkeypatch.setattr(insight, "crowd_health", counting("health", insight.crowd_health))
    monkeypatch.setattr(insight, "service_figures", counting("service", insight.service_figures))
    insight_cache.clear()
    _forget_redis(app)
    yield counted
    insight_cache.clear()
    _forget_redis(app)


def _forget_redis(app):
    with app.app_context():
        if app.config["CROWD_SETTINGS"].redis_url:
            redis = redis_connection()
            for key in redis.scan_iter(insight_cache.PREFIX + "*"):
                redis.delete(key)


@pytest.fixture
def cm_client(client):
    assert sign_in(client, make_staff()).status_code == 303
    return client


def test_the_charts_are_served_from_the_pages_figures(app, cm_client, calls):
    page = cm_client.get(PAGE, query_string=QUERY)
    assert page.status_code == 200
    assert calls == {"health": 1, "service": 1}
    for name in ("active-regions", "retention", "disputes", "sla", "first-offer"):
        chart = cm_client.get(f"/console/insight/charts/{name}.svg", query_string=QUERY)
        assert chart.status_code == 200
    assert cm_client.get("/console/insight/health.csv", query_string=QUERY).status_code == 200
    assert calls == {"health": 1, "service": 1}
    # Other filters are other figures.
    cm_client.get("/console/insight/charts/sla.svg", query_string={**QUERY, "country": "DE"})
    assert calls == {"health": 1, "service": 2}


def test_kept_figures_expire(app, cm_client, calls, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(insight_cache, "clock", lambda: now[0])
    cm_client.get("/console/insight/charts/retention.svg", query_string=QUERY)
    cm_client.get("/console/insight/charts/retention.svg", query_string=QUERY)
    assert calls["health"] == 1
    with app.app_context():
        redis = insight_cache._redis()
        key = insight_cache._key("health", {"from_": "2026-01-01", "to": "2026-03-31"})
    if redis is not None:
        # Redis expires the key by itself: it was written with the setting's lifetime.
        assert 0 < redis.ttl(key) <= 60
        redis.delete(key)
    else:
        now[0] += 61
    cm_client.get("/console/insight/charts/retention.svg", query_string=QUERY)
    assert calls["health"] == 2


def test_zero_seconds_turns_the_cache_off(app, cm_client, calls, monkeypatch):
    monkeypatch.setitem(app.config, "CONSOLE_INSIGHT_CACHE_SECONDS", 0)
    for _ in range(2):
        cm_client.get("/console/insight/charts/retention.svg", query_string=QUERY)
    assert calls["health"] == 2


def test_without_redis_the_figures_are_computed(app, cm_client, calls, monkeypatch):
    class Away:
        def get(self, key):
            raise RedisError("connection refused")

        def set(self, key, value, ex):
            raise RedisError("connection refused")

    monkeypatch.setattr(insight_cache, "_redis", lambda: Away())
    for _ in range(2):
        chart = cm_client.get("/console/insight/charts/retention.svg", query_string=QUERY)
        assert chart.status_code == 200
    assert calls["health"] == 2
