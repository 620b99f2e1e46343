"""Regular expressions for filters: RE2 (google-re2), linear in the text, so no pattern can stall a query.

PostgreSQL evaluates ``~`` itself; SQLite calls the ``regexp`` function registered here on every connection
(core/db/engine.py). Patterns are checked with RE2 up front on both backends, so both accept the same ones
(no back-references or look-arounds).
"""

from __future__ import annotations

import functools

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


class PatternInvalid(ValueError):
    pass


@functools.lru_cache(maxsize=256)
def compiled(pattern: str) -> re2._Regexp:
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        raise PatternInvalid(exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)) from exc


def regexp(pattern: str | None, value: str | None) -> bool | None:
    """SQL ``value REGEXP pattern`` (SQLite's argument order: pattern first); NULL in, NULL out."""
    if pattern is None or value is None:
        return None
    return compiled(pattern).search(value) is not None
