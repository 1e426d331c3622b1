"""Alphabetical order of names, as lists of delegations and roll calls print them.

Not a full collation (the documents' language decides, and the secretariat can give a
delegation the sort key its documents use): letters compare without case, and a Latin letter
with a diacritic sorts with its base letter ("Côte d'Ivoire" among the C, "Österreich" among
the O). Other scripts keep their letters as written: Cyrillic "Й" is a letter of its own,
after "И", not "И" with a mark."""
from __future__ import annotations

import unicodedata


def _base(character: str) -> str:
    """A Latin letter without its diacritics; any other character as it is."""
    decomposed = unicodedata.normalize("NFD", character)
    base = decomposed[0]
    return base if base.isascii() and len(decomposed) > 1 else character


def sort_key(text: str) -> str:
    """What ``text`` sorts by: case-folded, Latin diacritics dropped, spaces collapsed."""
    folded = "".join(_base(c) for c in unicodedata.normalize("NFC", " ".join(text.split())))
    return folded.casefold()


def _script_rank(character: str, language: str) -> int:
    """Where a character's script sorts in ``language``'s lists: Russian lists put Cyrillic
    names before Latin ones, other languages Latin first; spaces and punctuation before both."""
    if not character.isalpha():
        return 0
    cyrillic = "CYRILLIC" in unicodedata.name(character, "")
    return 1 if cyrillic == (language == "ru") else 2


def name_key(text: str, language: str) -> tuple[tuple[int, str], ...]:
    """What a name sorts by in a list printed in ``language`` (a list of participants): as
    ``sort_key``, with "ё" among the "е" (Russian alphabetical order: «Ёлкин» before «Жуков»)
    and the document's own script first."""
    folded = sort_key(text).replace("ё", "е")
    return tuple((_script_rank(c, language), c) for c in folded)
