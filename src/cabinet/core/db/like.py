"""Text a person typed, matched as a substring with ``LIKE``: its own ``%``, ``_`` and the escape character are
taken literally. One escape character for every such search (``\\``, PostgreSQL's default), on both backends."""

from __future__ import annotations

LIKE_ESCAPE = "\\"


def like_escaped(text: str) -> str:
    """``text`` for ``LIKE ... ESCAPE '\\'``, its wildcards and the escape character escaped."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def contains_pattern(text: str) -> str:
    """A ``LIKE`` pattern matching ``text`` anywhere."""
    return f"%{like_escaped(text)}%"
