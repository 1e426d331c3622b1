"""Randomised convergence, in the spirit of Yjs's own applyRandomTests.

Several editors type, delete, drop off the network (and keep typing offline) and come back,
while the server forgets every document once (as a restart would). At the end every
replica, the server's document, the stored text and a fresh load from the database are
identical, and nothing anyone typed is missing. Seeded and short in the normal suite;
``PLENARY_CONVERGENCE_ROUNDS`` (and ``PLENARY_CONVERGENCE_SEED``) make it longer or other.
"""
from __future__ import annotations

import os
import random
import re
import string

import pytest

from drafting.editing import docs
from tests.helpers.live import reloaded_text, stored_text
from tests.yclient import EditorClient, eventually

MARKER = re.compile(r"<\d+:[^<>]*>")
ROUNDS = int(os.environ.get("PLENARY_CONVERGENCE_ROUNDS", "80"))
SEEDS = [int(os.environ["PLENARY_CONVERGENCE_SEED"])] if "PLENARY_CONVERGENCE_SEED" in os.environ \
    else [1, 2]


def random_word(rng: random.Random) -> str:
    alphabet = string.ascii_letters + "éжЖ🌍 "
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_editing_with_disconnects_and_a_restart_converges(app, connect, drafting_room, factories,
                                                                  seed):
    cast, recommendation, tokens = drafting_room
    rng = random.Random(seed)
    extra = factories.member_of(cast.group)
    editors: list[EditorClient] = [connect(tokens["chair"]), connect(tokens["member"]),
                                   connect(factories.api_token(extra))]
    doc = editors[0].join(recommendation.id)["clauses"][1]["doc"]
    for editor in editors[1:]:
        editor.join(recommendation.id)
    for editor in editors:
        editor.open(doc)
    typed: list[str] = []
    restarted = False
    for _round in range(ROUNDS):
        editor = rng.choice(editors)
        roll = rng.random()
        current = editor.text(doc)
        # Markers are what must survive: never insert into one, never delete from one.
        inside = {i for found in MARKER.finditer(current) for i in range(found.start() + 1, found.end())}
        if roll < 0.55:
            word = f"<{len(typed)}:{random_word(rng)}>"
            typed.append(word)
            editor.insert(doc, rng.choice([i for i in range(len(current) + 1) if i not in inside]), word)
        elif roll < 0.75 and current:
            inside |= {found.start() for found in MARKER.finditer(current)}
            start = rng.randint(0, len(current) - 1)
            length = 0
            while start + length < len(current) and start + length not in inside and length < 3:
                length += 1
            if length:
                editor.delete(doc, start, length)
        elif roll < 0.87:
            if editor.sio.connected:
                editor.disconnect()  # and keeps typing offline on later rounds
            else:
                editor.reconnect()
        elif not restarted and roll < 0.93:
            # A restart: the server forgets its documents, every connection drops.
            restarted = True
            for other in editors:
                other.disconnect()
            docs.forget_all()
    for editor in editors:
        if not editor.sio.connected:
            editor.reconnect()
    clause_id = int(doc.split(":")[1])
    eventually(lambda: len({editor.text(doc) for editor in editors}) == 1
               and stored_text(app, clause_id) == editors[0].text(doc),
               timeout=30, message=f"convergence (seed {seed})")
    final = editors[0].text(doc)
    assert reloaded_text(app, clause_id) == final
    missing = [word for word in typed if word not in final]
    assert not missing, f"lost edits (seed {seed}): {missing}"
