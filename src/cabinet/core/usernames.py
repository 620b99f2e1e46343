"""Usernames that cannot pass for one another (Unicode TS 39, with the ``confusable_homoglyphs`` data).

Usernames are global (one namespace across every company), so a look-alike of someone's name is an impersonation
tool. A name is refused when

* it mixes scripts (Latin with Cyrillic, ...; digits and ``_`` belong to every script), or
* its *skeleton* equals an existing user's: NFKC, case-folded, then each character replaced by one representative
  of its class of confusable characters (Unicode's confusables data: Cyrillic ``а`` and Latin ``a``, ``0`` and
  ``O``, ``1``, ``l`` and ``I``, fullwidth forms, mathematical alphabets ...). The skeleton is stored with the
  user (an indexed column) for this check.
"""

from __future__ import annotations

import functools
import unicodedata

from confusable_homoglyphs import categories, confusables

from cabinet.core.errors import CabinetError, ErrorKind, FieldIssue

SCRIPTLESS = frozenset({"COMMON", "INHERITED"})  # digits, "_": in every script
SKELETON_MAX = 1024
MIXED_SCRIPT = "username mixes scripts (for example Latin and Cyrillic letters); use one script"
CONFUSABLE = "username looks like an existing user name (Unicode confusables); choose another"


class UsernameRefused(CabinetError):
    """A username that could pass for another one (mixed scripts, or confusable with an existing name)."""

    mnemonic = "username_refused"
    kind = ErrorKind.INVALID
    default_message = CONFUSABLE
    mixed_message = MIXED_SCRIPT

    @classmethod
    def confusable(cls, field: str = "username") -> UsernameRefused:
        return cls(CONFUSABLE, issues=[FieldIssue(field, CONFUSABLE)])

    @classmethod
    def mixed(cls, field: str = "username") -> UsernameRefused:
        return cls(cls.mixed_message, issues=[FieldIssue(field, cls.mixed_message)])


@functools.lru_cache(maxsize=1)
def _representatives() -> dict[str, str]:
    """Each confusable character -> the smallest character of its class (classes joined over the data's pairs;
    multi-character look-alikes are left out)."""
    parent: dict[str, str] = {}

    def find(ch: str) -> str:
        root = ch
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(ch, ch) != root:  # path compression
            parent[ch], ch = root, parent[ch]
        return root

    for char, entries in confusables.confusables_data.items():
        if len(char) != 1:
            continue
        for entry in entries:
            other = entry["c"].replace("\u200e", "").replace("\u200f", "")
            if len(other) != 1:
                continue
            a, b = find(char), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {ch: find(ch) for ch in parent}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def skeleton(username: str) -> str:
    """What a name looks like: equal skeletons mean confusable names."""
    reps = _representatives()
    mapped = "".join(reps.get(ch, ch) for ch in _fold(username))
    return "".join(reps.get(ch, ch) for ch in _fold(mapped))[:SKELETON_MAX]


def scripts_of(username: str) -> set[str]:
    return set(categories.unique_aliases(username)) - SCRIPTLESS


def mixed_script(username: str) -> bool:
    return len(scripts_of(username)) > 1
