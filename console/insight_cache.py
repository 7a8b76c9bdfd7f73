"""A short-lived cache of Insight's figures: each source is computed once per filter set and
shared by the dashboard and its chart images (one page view asks for the same figures ~20
times: the page, then each chart as its own request).

What is kept is the API's JSON for the source (its response schema's dump), so a cached chart
shows exactly what GET /api/v1/… would have answered when it was computed. Kept for
CONSOLE_INSIGHT_CACHE_SECONDS (0: no cache): in Redis when the app has REDIS_URL (shared by
every worker process), otherwise in this process's memory (the embedded default). The API
routes themselves are not cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app
from redis.exceptions import RedisError

from console.config import console_settings
from crowd.core.background import redis_connection

log = logging.getLogger(__name__)

PREFIX = "crowd:insight:"
# The in-process store keeps at most this many filter sets (the oldest go first).
MAX_ENTRIES = 256

_local: OrderedDict[str, tuple[float, str]] = OrderedDict()
_lock = threading.Lock()


def clock() -> float:
    """Seconds on a monotonic clock (tests move it)."""
    return time.monotonic()


def cached(source: str, args: dict, compute: Callable[[], dict]) -> dict:
    """The figures of `source` for the filters `args`: kept ones if fresh, else computed."""
    seconds = console_settings().insight_cache_seconds
    if not seconds:
        return json.loads(compute())
    key = _key(source, args)
    found = _get(key)
    if found is None:
        found = compute()
        _put(key, found, seconds)
    return json.loads(found)


def clear() -> None:
    """Forget every kept figure (this process's; Redis keys expire by themselves)."""
    with _lock:
        _local.clear()


def _key(source: str, args: dict) -> str:
    # The database is part of the key: apps sharing one Redis database keep apart.
    database = current_app.config["CROWD_SETTINGS"].database_url
    given = json.dumps(
        {"db": database, "source": source, **{k: str(v) for k, v in args.items()}},
        sort_keys=True,
    )
    return PREFIX + source + ":" + hashlib.sha256(given.encode()).hexdigest()[:32]


def _redis():
    return redis_connection() if current_app.config["CROWD_SETTINGS"].redis_url else None


def _get(key: str) -> str | None:
    redis = _redis()
    if redis is not None:
        try:
            value = redis.get(key)
        except RedisError:  # Redis away: the figures are computed, the page still shows
            log.warning("insight cache: Redis unavailable, computing the figures")
            return None
        return value.decode() if value is not None else None
    with _lock:
        entry = _local.get(key)
        if entry is None:
            return None
        if entry[0] <= clock():
            del _local[key]
            return None
        return entry[1]


def _put(key: str, value: str, seconds: int) -> None:
    redis = _redis()
    if redis is not None:
        with contextlib.suppress(RedisError):
            redis.set(key, value, ex=seconds)
        return
    with _lock:
        _local[key] = (clock() + seconds, value)
        _local.move_to_end(key)
        while len(_local) > MAX_ENTRIES:
            _local.popitem(last=False)
