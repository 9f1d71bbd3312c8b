"""The one cache of the read side: answers keyed by the data version and the question.

Two levels: this process's Django cache, then `SalesAnswer`, a table shared by every web worker and
process (a new worker reads what another computed, and nothing is computed twice after an import).
An answer of megabytes (`shared=False`: a table of every customer) stays in this process only, as the
object itself: Django's local-memory cache pickles what it holds, and unpickling such a table on
every request cost a page tens of milliseconds.
Every change to the data bumps the version and empties the table (`version.data_version_bump`), so
an answer is never stale; process entries of older versions are simply never asked for again.

Selectors cache their frozen dataclasses here; pages and API endpoints cache their rendered forms
(a page's figures, an answer's JSON) through the same function, never a cache of their own.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection

from analytics.warehouse.version import data_version_get

T = TypeVar("T")
# Part of every key: bump it when an answer's shape changes, so that answers stored by the previous
# code (SalesAnswer outlives a deploy) are not read back.
ANSWER_FORMAT = 3
CACHE_SECONDS = 24 * 60 * 60  # keys carry the data version, so entries never go stale; this only frees memory
# The data version of answers about one segmentation run, which no import changes (a run is never
# edited): kept across imports, keyed by the run instead.
ANY_DATA_VERSION = 0
# The megabyte answers this process keeps, the most recently used last.
_UNSHARED: OrderedDict[str, Any] = OrderedDict()
_UNSHARED_LOCK = threading.Lock()  # gthread workers (WEB_THREADS) share a process's answers
UNSHARED_ENTRIES = 8


def question_key(*parts: Any) -> str:
    """A short stable digest of a question's parameters (filters, options)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def answer_get(
    name: str, question: str, compute: Callable[[int], T], *, data_version: int | None = None, shared: bool = True
) -> T:
    """compute(data_version), cached under the data version (the current one unless given), `name`
    and `question`. `shared=False` keeps an answer of megabytes (a table of every customer) in this
    process only: writing it to `SalesAnswer` would cost seconds, more than computing it again."""
    if data_version is None:
        data_version = data_version_get()
    key = f"answers:{name}:v{data_version}:f{ANSWER_FORMAT}:{question}"
    if not shared:
        return _unshared_get(key, lambda: compute(data_version))
    result = cache.get(key)
    if result is not None:
        return result
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM analytics_salesanswer WHERE key = %s", [key])
        stored = cursor.fetchone()
        if stored:
            result = pickle.loads(stored[0])  # noqa: S301 (written by this application only)
        else:
            result = compute(data_version)
            cursor.execute(
                "INSERT INTO analytics_salesanswer (key, data_version, value, created_at) "
                "VALUES (%s, %s, %s, now()) ON CONFLICT (key) DO NOTHING",
                [key, data_version, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)],
            )
    cache.set(key, result, CACHE_SECONDS)
    return result


def _unshared_get(key: str, compute: Callable[[], T]) -> T:
    # Kept while the Django cache holds its mark, so that clearing that cache forgets it as well.
    marked = cache.get(key) is not None
    with _UNSHARED_LOCK:
        if marked and key in _UNSHARED:
            _UNSHARED.move_to_end(key)
            return _UNSHARED[key]
    result = compute()
    with _UNSHARED_LOCK:
        _UNSHARED[key] = result
        while len(_UNSHARED) > UNSHARED_ENTRIES:
            _UNSHARED.popitem(last=False)
    cache.set(key, True, CACHE_SECONDS)
    return result


def process_cached(name: str, data_version: int, compute: Callable[[], T]) -> T:
    """compute(), cached in this process only under the data version: for small lookups (the names of
    the stores and categories) that are cheaper to read again than to share."""
    key = f"answers:{name}:v{data_version}:f{ANSWER_FORMAT}"
    result = cache.get(key)
    if result is None:
        result = compute()
        cache.set(key, result, CACHE_SECONDS)
    return result
