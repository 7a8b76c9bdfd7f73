"""Change stamps: an opaque token per key ("offers:member:7") that changes whenever what the key
names changes, so a reader can tell "nothing changed" without asking the database.

Writers `touch(key)` inside their unit of work; the new stamp is written after the commit
(SQLAlchemy's `after_commit`, whatever committed), so a reader who sees the new stamp also sees
the committed rows. A reader takes the stamp *before* reading the rows it describes: a change
committed in between leaves it an old stamp with newer rows, which only costs one full answer
more. A touch whose unit of work rolls back is dropped; one from a rolled-back savepoint stays
(a spurious new stamp is harmless, a missed one is not).

A stamp is a random token, not a counter, and lives STAMP_TTL_SECONDS: a missing key gets a
fresh token on its next read, which never equals an earlier one. So a touch lost between the
commit and the store (a process killed just then, Redis unreachable) is outlived after at most
that long, and a Redis restarted empty cannot hand out an old stamp for new data.

Beside the stamps the store keeps short-lived notes (`remember`/`recall`): a cache whose
entries the caller checks against stamps (accounts.authentication).

The store is Redis with REDIS_URL (shared by every worker process), process memory on the
embedded default (one process, as its rate limits are).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Iterable, Sequence

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from crowd.core.background import redis_connection

log = logging.getLogger(__name__)

STAMP_TTL_SECONDS = 600
_PREFIX = "crowd:stamp:"
_TOUCHED = "crowd_stamps_touched"
_MEMO = "crowd.stamps"

# Read every key in one round trip; a missing one gets the fresh token passed for it.
_READ_SCRIPT = """
local out = {}
local ttl = ARGV[#KEYS + 1]
for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if not value then
    value = ARGV[i]
    redis.call('SET', key, value, 'EX', ttl)
  end
  out[i] = value
end
return out
"""


# A note and, in the same round trip, the current stamps of the keys it names (its first line).
_RECALL_SCRIPT = """
local note = redis.call('GET', KEYS[1])
if not note then return false end
local out = {note}
local header = string.sub(note, 1, (string.find(note, '\\n', 1, true) or 1) - 1)
local i = 0
for key in string.gmatch(header, '%S+') do
  i = i + 1
  local name = ARGV[2] .. key
  local value = redis.call('GET', name)
  if not value then
    value = ARGV[2 + i]
    redis.call('SET', name, value, 'EX', ARGV[1])
  end
  out[#out + 1] = value
end
return out
"""
# The most stamps a note may name.
MAX_NOTE_STAMPS = 4


def _fresh() -> str:
    return secrets.token_hex(6)


class _MemoryStore:
    """Stamps in this process (the embedded default, without Redis)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float]] = {}
        self._notes: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def read(self, keys: Sequence[str]) -> list[str]:
        return self._current(keys)

    def _current(self, keys: Sequence[str]) -> list[str]:
        now = time.monotonic()
        out = []
        with self._lock:
            for key in keys:
                found = self._values.get(key)
                if found is None or found[1] <= now:
                    found = (_fresh(), now + STAMP_TTL_SECONDS)
                    self._values[key] = found
                out.append(found[0])
            if len(self._values) > 100_000:
                self._values = {k: v for k, v in self._values.items() if v[1] > now}
        return out

    def renew(self, keys: Iterable[str]) -> None:
        expires = time.monotonic() + STAMP_TTL_SECONDS
        with self._lock:
            for key in keys:
                self._values[key] = (_fresh(), expires)

    def recall(self, key: str) -> tuple[str, str, list[str]] | None:
        found = self._notes.get(key)
        if found is None or found[1] <= time.monotonic():
            return None
        keys, _, text = found[0].partition("\n")
        return keys, text, self._current(keys.split())

    def remember(self, key: str, note: str, seconds: int) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._notes) > 100_000:
                self._notes = {k: v for k, v in self._notes.items() if v[1] > now}
            self._notes[key] = (note, now + seconds)


class _RedisStore:
    """Stamps in Redis, shared by every process of the deployment."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._script = None
        self._recall_script = None

    def read(self, keys: Sequence[str]) -> list[str]:
        connection = redis_connection()
        if self._script is None:
            self._script = connection.register_script(_READ_SCRIPT)
        names = [self._prefix + key for key in keys]
        values = self._script(
            keys=names, args=[*(_fresh() for _ in keys), STAMP_TTL_SECONDS], client=connection
        )
        return [v.decode() if isinstance(v, bytes) else v for v in values]

    def renew(self, keys: Iterable[str]) -> None:
        pipe = redis_connection().pipeline(transaction=False)
        for key in keys:
            pipe.set(self._prefix + key, _fresh(), ex=STAMP_TTL_SECONDS)
        pipe.execute()

    def recall(self, key: str) -> tuple[str, str, list[str]] | None:
        connection = redis_connection()
        if self._recall_script is None:
            self._recall_script = connection.register_script(_RECALL_SCRIPT)
        fresh = [_fresh() for _ in range(MAX_NOTE_STAMPS)]
        found = self._recall_script(
            keys=[self._prefix + "note:" + key],
            args=[STAMP_TTL_SECONDS, self._prefix, *fresh],
            client=connection,
        )
        if not found:
            return None
        note, *values = (v.decode() if isinstance(v, bytes) else v for v in found)
        keys, _, text = note.partition("\n")
        return keys, text, values

    def remember(self, key: str, note: str, seconds: int) -> None:
        redis_connection().set(self._prefix + "note:" + key, note, ex=seconds)


_STORE_LOCK = threading.Lock()


def _store():
    store = current_app.extensions.get("crowd_stamps")
    if store is None:
        settings = current_app.config["CROWD_SETTINGS"]
        with _STORE_LOCK:  # one store per app, or a renewal could land in a lost one
            store = current_app.extensions.get("crowd_stamps")
            if store is None:
                if settings.redis_url:
                    store = _RedisStore(f"{_PREFIX}{settings.rate_limit_key_prefix}:")
                else:
                    store = _MemoryStore()
                current_app.extensions["crowd_stamps"] = store
    return store


def _memo() -> dict[str, str] | None:
    """The stamps this request has read so far: read once per request, one round trip saved
    (a stamp read earlier in the request is still read before anything it describes)."""
    return request.environ.setdefault(_MEMO, {}) if has_request_context() else None


def read(*keys: str) -> list[str] | None:
    """The current stamps of `keys` (fresh ones for keys not stamped yet); None when the
    store cannot be reached: then the caller answers from the database."""
    memo = _memo()
    if memo is not None and all(key in memo for key in keys):
        return [memo[key] for key in keys]
    try:
        values = _store().read(keys)
    except Exception:
        log.warning("change stamps unreadable", exc_info=True)
        return None
    if memo is not None:
        memo.update(zip(keys, values, strict=True))
    return values


def renew_now(*keys: str) -> None:
    """Give `keys` new stamps at once (outside any unit of work); raises when the store fails."""
    memo = _memo()
    if memo is not None:
        for key in keys:
            memo.pop(key, None)
    _store().renew(keys)


def recall(key: str) -> tuple[str, list[str]] | None:
    """A note kept by `remember` and not yet lapsed, with the current stamps of the keys it
    named, read together (one round trip; later reads of them in this request need none);
    None when there is none or the store is unreachable."""
    try:
        found = _store().recall(key)
    except Exception:
        log.warning("short-lived cache unreadable", exc_info=True)
        return None
    if found is None:
        return None
    header, text, values = found
    memo = _memo()
    if memo is not None:
        memo.update(zip(header.split(), values, strict=False))
    return text, values


def remember(key: str, text: str, seconds: int, *, stamps: Sequence[str] = ()) -> None:
    """Keep `text` under `key` for `seconds`, naming the stamps `recall` returns with it (a
    cache: losing it only costs a lookup)."""
    if len(stamps) > MAX_NOTE_STAMPS or any(not k or k.split() != [k] for k in stamps):
        raise ValueError(f"at most {MAX_NOTE_STAMPS} stamp keys without spaces: {stamps!r}")
    try:
        _store().remember(key, " ".join(stamps) + "\n" + text, seconds)
    except Exception:
        log.warning("short-lived cache not written", exc_info=True)


def touch(session: Session, *keys: str) -> None:
    """Give `keys` new stamps once `session`'s unit of work commits (dropped on rollback)."""
    session.info.setdefault(_TOUCHED, set()).update(keys)


def signature(*parts: object) -> str:
    """A short keyed digest of `parts` (SECRET_KEY): validators only this server issues."""
    message = "\x1f".join(str(part) for part in parts).encode()
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:20]


@event.listens_for(Session, "after_commit")
def _renew_touched(session: Session) -> None:
    keys = session.info.pop(_TOUCHED, None)
    if not keys or not has_app_context():
        return
    try:
        renew_now(*keys)
    except Exception:
        # The commit stands; the stamps' lifetime bounds how long readers may miss it.
        log.exception("change stamps not renewed after commit: %s", sorted(keys)[:10])


@event.listens_for(Session, "after_transaction_end")
def _drop_untouched(session: Session, transaction) -> None:
    # The unit of work is over (committed: already renewed; rolled back: nothing changed).
    if transaction.parent is None:
        session.info.pop(_TOUCHED, None)
