"""The order of a roll call, a pure function: alphabetical (by delegation, or by surname where
people vote), from the one drawn by lot, going round; and the alphabet it goes by."""
from __future__ import annotations

import pytest

from drafting.collation import sort_key
from drafting.votes.roll_call import delegation_key, draw, person_key, roll_call_order
from models import Delegation, DelegationKind, Participant, StakeholderCategory

pytestmark = pytest.mark.database_independent


def state(name: str, key: str = "", id_: int = 0) -> Delegation:
    return Delegation(id=id_ or abs(hash(name)) % 10_000, name=name, sort_key=key,
                      kind=DelegationKind.STATE)


def person(name: str, family_name: str = "", id_: int = 1) -> Participant:
    return Participant(id=id_, name=name, family_name=family_name,
                       category=StakeholderCategory.GOVERNMENT_OFFICIAL)


STATES = [state(name) for name in ("Tajikistan", "Kazakhstan", "Russian Federation",
                                   "Kyrgyzstan", "Uzbekistan", "Armenia")]


def names(entries: list[Delegation]) -> list[str]:
    return [entry.name for entry in entries]


# --- the order ---------------------------------------------------------------------------------


def test_nothing_drawn_is_plain_alphabetical_order():
    assert names(roll_call_order(STATES, delegation_key, None)) == [
        "Armenia", "Kazakhstan", "Kyrgyzstan", "Russian Federation", "Tajikistan", "Uzbekistan"]


def test_the_one_drawn_is_called_first_and_the_call_goes_round_the_alphabet():
    drawn = next(s for s in STATES if s.name == "Russian Federation")
    assert names(roll_call_order(STATES, delegation_key, delegation_key(drawn))) == [
        "Russian Federation", "Tajikistan", "Uzbekistan", "Armenia", "Kazakhstan", "Kyrgyzstan"]


def test_the_first_drawn_starts_with_the_whole_alphabet_and_the_last_with_itself():
    first = next(s for s in STATES if s.name == "Armenia")
    last = next(s for s in STATES if s.name == "Uzbekistan")
    assert names(roll_call_order(STATES, delegation_key, delegation_key(first)))[0] == "Armenia"
    assert names(roll_call_order(STATES, delegation_key, delegation_key(last))) == [
        "Uzbekistan", "Armenia", "Kazakhstan", "Kyrgyzstan", "Russian Federation", "Tajikistan"]


def test_a_drawn_one_that_did_not_vote_is_followed_by_the_next_in_the_alphabet():
    voted = [s for s in STATES if s.name != "Kyrgyzstan"]
    drawn = next(s for s in STATES if s.name == "Kyrgyzstan")
    assert names(roll_call_order(voted, delegation_key, delegation_key(drawn))) == [
        "Russian Federation", "Tajikistan", "Uzbekistan", "Armenia", "Kazakhstan"]


def test_a_drawn_one_after_everyone_who_voted_starts_again_from_the_beginning():
    voted = [s for s in STATES if s.name != "Uzbekistan"]
    drawn = next(s for s in STATES if s.name == "Uzbekistan")
    assert names(roll_call_order(voted, delegation_key, delegation_key(drawn))) == [
        "Armenia", "Kazakhstan", "Kyrgyzstan", "Russian Federation", "Tajikistan"]


def test_nobody_to_call_is_an_empty_roll_call():
    assert roll_call_order([], delegation_key, delegation_key(STATES[0])) == []
    assert roll_call_order([], delegation_key, None) == []


def test_the_sort_key_not_the_printed_name_decides_the_place():
    moldova = state("Republic of Moldova", key="Moldova")
    listed = [*STATES, moldova]
    assert names(roll_call_order(listed, delegation_key, None)).index("Republic of Moldova") == \
        names(roll_call_order(listed, delegation_key, None)).index("Kyrgyzstan") + 1


def test_delegations_sharing_a_sort_key_go_by_name_then_by_id():
    twins = [state("B", key="Same", id_=2), state("A", key="Same", id_=3),
             state("A", key="Same", id_=1)]
    assert [(d.name, d.id) for d in roll_call_order(twins, delegation_key, None)] == [
        ("A", 1), ("A", 3), ("B", 2)]


def test_people_are_called_by_family_name_then_full_name():
    people = [person("Elena Sokolova", id_=1), person("Aigul Bekova", id_=2),
              person("Sokolova Anna", family_name="Sokolova", id_=3),
              person("Jean-Pierre Moreau", id_=4)]
    ordered = roll_call_order(people, person_key, person_key(people[3]))
    assert [p.name for p in ordered] == ["Jean-Pierre Moreau", "Elena Sokolova", "Sokolova Anna",
                                         "Aigul Bekova"]


def test_the_surname_is_the_family_name_or_else_the_last_word_of_the_name():
    assert person("Elena Sokolova").surname == "Sokolova"
    assert person("Sokolova Elena", family_name="Sokolova").surname == "Sokolova"
    assert person("  Ban   Ki-moon ", family_name="  Ban ").surname == "Ban"
    assert person("Madonna").surname == "Madonna"
    assert person("").surname == ""


# --- the draw ----------------------------------------------------------------------------------


def test_the_draw_picks_one_of_those_who_may_vote_and_nothing_from_nobody():
    assert draw([]) is None
    assert draw([7]) == 7
    assert all(draw([1, 2, 3]) in {1, 2, 3} for _ in range(20))


# --- the alphabet ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "key"), [
    ("Kazakhstan", "kazakhstan"),
    ("  Russian   Federation ", "russian federation"),
    ("Côte d’Ivoire", "cote d’ivoire"),
    ("Österreich", "osterreich"),
    ("Türkiye", "turkiye"),
    ("Straße", "strasse"),
    ("Казахстан", "казахстан"),
])
def test_what_names_sort_by(text, key):
    assert sort_key(text) == key


def test_latin_diacritics_sort_with_their_letter_and_cyrillic_letters_keep_their_place():
    assert sorted(["Oman", "Österreich", "Norway", "Poland"], key=sort_key) == [
        "Norway", "Oman", "Österreich", "Poland"]
    # Russian order: И, Й, К — "Й" is a letter of its own, not "И" with a mark.
    assert sorted(["Казахстан", "Йемен", "Италия", "Израиль"], key=sort_key) == [
        "Израиль", "Италия", "Йемен", "Казахстан"]
    # Ё is after Е in the Unicode table and in the alphabet.
    assert sort_key("Ёлка") != sort_key("Елка")
