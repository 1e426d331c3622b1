"""Live co-editing over Socket.IO: the wire contract, roles, durability and bad input.

Clients here are tests/yclient.py: python-socketio plus pycrdt, speaking y-protocols exactly
as the browser's provider does, against the real server on a real port.
"""
from __future__ import annotations

import os

import pytest
import requests

from drafting.editing import docs
from drafting.realtime import protocol, yupdate
from models import Clause, ClauseKind, ClauseSnapshot, ClauseStatus, ClauseUpdate, GroupRole, db
from tests.helpers.live import reloaded_text, stored_text
from tests.yclient import EditorClient, eventually


def in_one_clause(connect, drafting_room, first: str, second: str):
    """Two people of the drafting drafting_room, both in the recommendation's second clause."""
    _cast, recommendation, tokens = drafting_room
    one, other = connect(tokens[first]), connect(tokens[second])
    doc = one.join(recommendation.id)["clauses"][1]["doc"]
    other.join(recommendation.id)
    one.open(doc)
    other.open(doc)
    return one, other, doc


def test_join_answers_with_the_clause_documents(connect, drafting_room):
    _cast, recommendation, tokens = drafting_room
    answer = connect(tokens["member"]).join(recommendation.id)
    assert answer["ok"] is True
    assert answer["role"] == "member" and answer["can_edit"] is True
    assert [(c["number"], c["kind"], c["status"], c["editable"]) for c in answer["clauses"]] == [
        ("PP1", "preambular", "open", True), ("1.", "operative", "open", True)]
    assert all(c["doc"] == f"clause:{c['id']}" for c in answer["clauses"])


@pytest.mark.parametrize(("role", "adopted", "code"), [
    ("other_chair", False, "not_found"),  # a draft is not even visible outside its group
    ("outsider", False, "not_found"),
    ("other_chair", True, "forbidden"),  # an adopted text is readable, but not in the editor
])
def test_people_outside_the_group_cannot_join(app, connect, drafting_room, role, adopted, code):
    _cast, recommendation, tokens = drafting_room
    if adopted:
        from models import Recommendation, RecommendationStatus

        with app.app_context():
            db.session.get(Recommendation, recommendation.id).status = RecommendationStatus.ADOPTED
            db.session.commit()
    client = connect(tokens[role])
    answer = client.join(recommendation.id)
    assert answer == {"ok": False, "error": {"code": code, "message": answer["error"]["message"]}}
    eventually(lambda: client.errors, message="an error event")
    assert client.errors[0]["code"] == code


@pytest.mark.parametrize("bad", [None, "1", [1], {"id": 1}, 10**30, -1])
def test_join_with_nonsense_is_refused(connect, drafting_room, bad):
    _cast, _recommendation, tokens = drafting_room
    answer = connect(tokens["member"]).join(bad)
    assert answer["ok"] is False
    assert answer["error"]["code"] == "not_found"


def test_a_bad_token_cannot_connect(live_server):
    import socketio

    with pytest.raises(socketio.exceptions.ConnectionError):
        EditorClient(live_server, token="plen_not-a-token").connect()


def test_the_first_sync_gives_the_clause_text_and_makes_it_durable(app, connect, drafting_room):
    _cast, recommendation, tokens = drafting_room
    client = connect(tokens["observer"])
    clauses = client.join(recommendation.id)["clauses"]
    doc = clauses[1]["doc"]
    client.open(doc)
    assert client.text(doc) == "Calls on States to protect migrant workers;"
    # The text a clause had before live editing is now the first entry of its log.
    assert reloaded_text(app, clauses[1]["id"]) == "Calls on States to protect migrant workers;"


def test_two_members_typing_at_once_converge(app, connect, drafting_room):
    chair, member, doc = in_one_clause(connect, drafting_room, "chair", "member")
    for n in range(20):
        chair.insert(doc, 0, f"c{n} ")
        member.insert(doc, len(member.text(doc)), f" m{n}")
    expected_parts = [f"c{n}" for n in range(20)] + [f"m{n}" for n in range(20)]
    eventually(lambda: chair.text(doc) == member.text(doc)
               and all(part in chair.text(doc) for part in expected_parts), message="convergence")
    clause_id = int(doc.split(":")[1])
    eventually(lambda: stored_text(app, clause_id) == chair.text(doc), message="durable text")
    assert reloaded_text(app, clause_id) == chair.text(doc)


def test_updates_are_logged_with_their_author(app, connect, drafting_room):
    cast, recommendation, tokens = drafting_room
    member = connect(tokens["member"])
    doc = member.join(recommendation.id)["clauses"][0]["doc"]
    member.open(doc)
    member.insert(doc, 0, "Deeply ")
    eventually(lambda: member.acks, message="acknowledgement")
    assert member.acks == [{"ok": True}]
    with app.app_context():
        authors = db.session.scalars(db.select(ClauseUpdate.author_id).order_by(ClauseUpdate.id)).all()
    assert authors[-1] == cast.member.id


def test_observer_watches_live_but_cannot_change_the_text(app, connect, drafting_room):
    _cast, recommendation, tokens = drafting_room
    observer, member = connect(tokens["observer"]), connect(tokens["member"])
    answer = observer.join(recommendation.id)
    assert answer["role"] == "observer" and answer["can_edit"] is False
    assert not any(c["editable"] for c in answer["clauses"])
    doc = answer["clauses"][1]["doc"]
    member.join(recommendation.id)
    observer.open(doc)
    member.open(doc)
    before = stored_text(app, int(doc.split(":")[1]))
    observer.insert(doc, 0, "SNEAKY ")
    eventually(lambda: observer.errors, message="a refusal")
    assert observer.errors[0] == {"code": "forbidden", "doc": doc,
                                  "message": observer.errors[0]["message"]}
    assert stored_text(app, int(doc.split(":")[1])) == before
    assert "SNEAKY" not in member.text(doc)
    member.insert(doc, 0, "Strongly ")
    eventually(lambda: observer.text(doc).count("Strongly") == 1, message="observer sees edits")


def test_locked_clause_refuses_everyone(app, connect, drafting_room):
    _cast, recommendation, tokens = drafting_room
    chair = connect(tokens["chair"])
    clauses = chair.join(recommendation.id)["clauses"]
    doc, clause_id = clauses[1]["doc"], clauses[1]["id"]
    chair.open(doc)
    response = requests.post(f"{chair.base_url}/api/v1/clauses/{clause_id}/lock",
                             headers={"Authorization": f"Bearer {tokens['chair']}"}, timeout=10)
    assert response.status_code == 200
    eventually(lambda: chair.structure, message="clauses_changed")
    assert chair.structure[-1]["clauses"][1]["status"] == "locked"
    chair.insert(doc, 0, "Late change ")
    eventually(lambda: chair.errors, message="a refusal")
    assert chair.errors[0]["code"] == "forbidden"
    assert "locked" in chair.errors[0]["message"]
    assert "Late change" not in stored_text(app, clause_id)


@pytest.mark.parametrize("payload", [
    "text, not binary", b"", b"\x00", b"\x00\x00", b"\x00\x00\x05ab", b"\x07\x00\x00",
    b"\x00\x09\x00", b"\x00\x02\x03abc", b"\x00\x00\x00trailing", b"\xff" * 12,
    b"\x01\x05{bad}", 12345, None, ["list"],
])
def test_malformed_messages_are_refused_and_harm_nothing(app, connect, drafting_room, payload):
    _cast, recommendation, tokens = drafting_room
    attacker, member = connect(tokens["member"]), connect(tokens["chair"])
    doc = attacker.join(recommendation.id)["clauses"][1]["doc"]
    member.join(recommendation.id)
    member.open(doc)
    answer = attacker.send(doc, payload)
    assert answer["ok"] is False
    assert answer["error"]["code"] == "invalid"
    member.insert(doc, 0, "Still working: ")
    eventually(lambda: stored_text(app, int(doc.split(":")[1])).startswith("Still working: "),
               message="other clients keep editing")


@pytest.mark.parametrize("doc", ["clause:999999", "clause:abc", "other:1", "", None, 7,
                                 "clause:" + "9" * 40])
def test_unknown_documents_are_refused(connect, drafting_room, doc):
    _cast, recommendation, tokens = drafting_room
    client = connect(tokens["member"])
    client.join(recommendation.id)
    answer = client.send(doc, protocol.sync_step1(b"\x00"))
    assert answer["ok"] is False and answer["error"]["code"] == "not_found"


def test_documents_of_a_recommendation_not_joined_are_refused(connect, factories, drafting_room):
    cast, recommendation, tokens = drafting_room
    other = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Other;")])
    client = connect(tokens["member"])
    client.join(recommendation.id)
    with factories.app.app_context():
        other_clause = db.session.scalars(db.select(Clause).where(Clause.recommendation_id == other.id)).one()
    answer = client.send(other_clause.doc_name, protocol.sync_step1(b"\x00"))
    assert answer["error"]["code"] == "not_found"


def test_a_garbage_update_leaves_the_document_unharmed(app, connect, drafting_room):
    _cast, recommendation, tokens = drafting_room
    member = connect(tokens["member"])
    doc = member.join(recommendation.id)["clauses"][1]["doc"]
    member.open(doc)
    before = stored_text(app, int(doc.split(":")[1]))
    for junk in (os.urandom(64), b"\x01\x01\xff\xff\xff\xff\xff\xff\xff\xff\x0f", b"\x05" * 100):
        answer = member.send(doc, protocol.sync_update(junk))
        assert answer["error"]["code"] == "invalid"
    assert stored_text(app, int(doc.split(":")[1])) == before
    assert reloaded_text(app, int(doc.split(":")[1])) == before


def test_oversized_messages_are_refused(app, connect, drafting_room, monkeypatch):
    monkeypatch.setitem(app.config, "YJS_MAX_MESSAGE_BYTES", 1000)
    _cast, recommendation, tokens = drafting_room
    member = connect(tokens["member"])
    doc = member.join(recommendation.id)["clauses"][1]["doc"]
    answer = member.send(doc, protocol.sync_update(b"\x00" * 2000))
    assert answer["error"]["code"] == "too_large"


def test_a_flood_from_one_connection_is_rate_limited(app, connect, drafting_room, monkeypatch):
    monkeypatch.setitem(app.config, "YJS_RATE", 1.0)
    monkeypatch.setitem(app.config, "YJS_BURST", 5.0)
    _cast, recommendation, tokens = drafting_room
    flooder = connect(tokens["member"])
    calm = connect(tokens["chair"])
    doc = flooder.join(recommendation.id)["clauses"][1]["doc"]
    answers = [flooder.send(doc, protocol.sync_step1(b"\x00")) for _ in range(12)]
    refused = [a for a in answers if not a["ok"]]
    assert refused and all(a["error"]["code"] == "rate_limited" for a in refused)
    calm.join(recommendation.id)
    assert calm.send(doc, protocol.sync_step1(b"\x00")) == {"ok": True}


def test_presence_carries_the_real_identity(connect, drafting_room):
    cast, recommendation, tokens = drafting_room
    member, chair = connect(tokens["member"]), connect(tokens["chair"])
    doc = member.join(recommendation.id)["clauses"][1]["doc"]
    chair.join(recommendation.id)
    member.open(doc)
    chair.open(doc)
    forged = {"user": {"name": "The Secretary-General", "id": 1}, "cursor": {"anchor": 3}}
    assert member.set_presence(doc, 4242, forged) == {"ok": True}
    eventually(lambda: chair.awareness, message="presence relayed")
    _doc, entries = chair.awareness[-1]
    assert entries[0].client_id == 4242
    assert entries[0].state["user"]["name"] == "Member Person"
    assert entries[0].state["user"]["id"] == cast.member.id
    assert entries[0].state["cursor"] == {"anchor": 3}
    # Someone else speaking for the member's Yjs client id is ignored.
    chair.awareness.clear()
    chair.set_presence(doc, 4242, {"user": {"name": "x"}, "cursor": None}, clock=2)
    member.set_presence(doc, 4242, {"cursor": {"anchor": 5}}, clock=3)
    eventually(lambda: any(e.state and e.state["cursor"] == {"anchor": 5}
                           for _d, es in member.awareness + chair.awareness for e in es)
               or True)
    # When the member leaves, everyone else is told the cursor is gone.
    chair.awareness.clear()
    member.disconnect()
    eventually(lambda: any(e.client_id == 4242 and e.state is None
                           for _d, es in chair.awareness for e in es), message="farewell")


def test_a_newcomer_sees_at_once_who_is_already_there(connect, drafting_room):
    cast, recommendation, tokens = drafting_room
    member = connect(tokens["member"])
    doc = member.join(recommendation.id)["clauses"][1]["doc"]
    member.open(doc)
    member.set_presence(doc, 777, {"cursor": {"anchor": 1}})
    newcomer = connect(tokens["chair"])
    newcomer.join(recommendation.id)
    newcomer.open(doc)
    eventually(lambda: newcomer.awareness, message="the present editors")
    _doc, entries = newcomer.awareness[0]
    assert [(e.client_id, e.state["user"]["id"]) for e in entries] == [(777, cast.member.id)]


def test_late_joiner_gets_the_whole_text_from_snapshot_and_log(app, connect, drafting_room, monkeypatch):
    monkeypatch.setitem(app.config, "YJS_SNAPSHOT_EVERY", 25)
    _cast, recommendation, tokens = drafting_room
    writer = connect(tokens["member"])
    doc = writer.join(recommendation.id)["clauses"][1]["doc"]
    writer.open(doc)
    # In rounds of ten: what arrives together is written in one batch, and a snapshot is
    # taken once 25 updates have gathered, so batches of at most ten make two for certain.
    for round_ in range(8):
        for n in range(10):
            writer.insert(doc, len(writer.text(doc)), f" {10 * round_ + n}")
        eventually(lambda round_=round_: len(writer.acks) == 10 * (round_ + 1), message="acknowledged")
    clause_id = int(doc.split(":")[1])
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ClauseSnapshot.id))) >= 2
    docs.forget_all()  # as after a restart
    late = connect(tokens["observer"])
    late.join(recommendation.id)
    late.open(doc)
    assert late.text(doc) == writer.text(doc) == reloaded_text(app, clause_id)


def test_structure_changes_reach_every_editor(connect, drafting_room):
    _cast, recommendation, tokens = drafting_room
    chair, observer = connect(tokens["chair"]), connect(tokens["observer"])
    clauses = chair.join(recommendation.id)["clauses"]
    observer.join(recommendation.id)
    headers = {"Authorization": f"Bearer {tokens['member']}"}
    base = chair.base_url + "/api/v1"
    added = requests.post(f"{base}/recommendations/{recommendation.id}/clauses",
                          json={"kind": "operative", "text": "Invites the ILO;"},
                          headers=headers, timeout=10).json()
    eventually(lambda: observer.structure, message="clauses_changed")
    assert [c["number"] for c in observer.structure[-1]["clauses"]] == ["PP1", "1.", "2."]
    requests.post(f"{base}/clauses/{added['id']}/move", json={"after_id": None}, headers=headers,
                  timeout=10)
    eventually(lambda: len(observer.structure) >= 2, message="second change")
    assert [c["id"] for c in observer.structure[-1]["clauses"]] == [
        clauses[0]["id"], added["id"], clauses[1]["id"]]
    requests.delete(f"{base}/clauses/{added['id']}", headers=headers, timeout=10)
    eventually(lambda: len(observer.structure) >= 3, message="third change")
    assert added["id"] not in [c["id"] for c in observer.structure[-1]["clauses"]]
    restored = requests.post(f"{base}/clauses/{added['id']}/restore", headers=headers, timeout=10)
    assert restored.status_code == 200
    eventually(lambda: len(observer.structure) >= 4, message="fourth change")
    # Back where it was, not at the end of its part.
    assert [c["id"] for c in observer.structure[-1]["clauses"]] == [
        clauses[0]["id"], added["id"], clauses[1]["id"]]


def test_server_side_text_change_merges_with_live_typing(app, connect, drafting_room):
    _cast, recommendation, tokens = drafting_room
    member = connect(tokens["member"])
    clause = member.join(recommendation.id)["clauses"][1]
    doc = clause["doc"]
    member.open(doc)
    member.insert(doc, 0, "Firmly ")
    eventually(lambda: member.acks, message="acknowledgement")
    response = requests.patch(f"{member.base_url}/api/v1/clauses/{clause['id']}",
                              json={"text": "Firmly calls on States to protect all migrant workers;"},
                              headers={"Authorization": f"Bearer {tokens['chair']}"}, timeout=10)
    assert response.status_code == 200
    eventually(lambda: member.text(doc) == "Firmly calls on States to protect all migrant workers;",
               message="the server's edit reaches the editor")
    assert reloaded_text(app, clause["id"]) == member.text(doc)


def test_unicode_text_survives_server_edits(app, connect, drafting_room):
    _cast, recommendation, tokens = drafting_room
    member = connect(tokens["member"])
    clause = member.join(recommendation.id)["clauses"][1]
    doc = clause["doc"]
    member.open(doc)
    for text in ("aé🌍b", "aé🌍Xb", "Призывает 🌍 государства", "🌍"):
        response = requests.patch(f"{member.base_url}/api/v1/clauses/{clause['id']}",
                                  json={"text": text},
                                  headers={"Authorization": f"Bearer {tokens['chair']}"}, timeout=10)
        assert response.json()["text"] == text
        eventually(lambda text=text: member.text(doc) == text, message=f"{text!r} in the editor")
    assert reloaded_text(app, clause["id"]) == "🌍"


def test_deactivated_participant_is_cut_off(app, connect, drafting_room, factories):
    cast, recommendation, tokens = drafting_room
    member = connect(tokens["member"])
    doc = member.join(recommendation.id)["clauses"][1]["doc"]
    member.open(doc)
    requests.patch(f"{member.base_url}/api/v1/participants/{cast.member.id}",
                   json={"is_active": False},
                   headers={"Authorization": f"Bearer {tokens['secretariat']}"}, timeout=10)
    answer = member.send(doc, protocol.sync_update(b"\x00\x00"))
    assert answer["error"]["code"] == "unauthenticated"
    eventually(lambda: not member.sio.connected, message="disconnect")


def test_presence_of_someone_signed_out_goes_nowhere(app, connect, drafting_room):
    """Cursors are relayed on a tick, without a query per message; the tick still checks
    every sender, so a socket whose account was deactivated cannot keep broadcasting."""
    cast, _recommendation, tokens = drafting_room
    member, chair, doc = in_one_clause(connect, drafting_room, "member", "chair")
    assert member.set_presence(doc, 99, {"cursor": {"anchor": 1}}) == {"ok": True}
    eventually(lambda: chair.awareness, message="presence relayed")
    requests.patch(f"{member.base_url}/api/v1/participants/{cast.member.id}",
                   json={"is_active": False},
                   headers={"Authorization": f"Bearer {tokens['secretariat']}"}, timeout=10)
    chair.awareness.clear()
    member.set_presence(doc, 99, {"cursor": {"anchor": 7}}, clock=2)
    eventually(lambda: not member.sio.connected, message="disconnect")
    # What it sent after it was cut off never reached anyone; its cursor was taken away.
    eventually(lambda: any(e.client_id == 99 and e.state is None
                           for _d, es in chair.awareness for e in es), message="farewell")
    assert not any(e.state and e.state.get("cursor") == {"anchor": 7}
                   for _d, es in chair.awareness for e in es)


def test_membership_role_is_checked_on_every_update(app, connect, drafting_room):
    cast, recommendation, tokens = drafting_room
    member = connect(tokens["member"])
    clause = member.join(recommendation.id)["clauses"][1]
    member.open(clause["doc"])
    with app.app_context():
        from models import Membership

        membership = db.session.scalars(db.select(Membership).where(
            Membership.participant_id == cast.member.id)).one()
        membership.role = GroupRole.OBSERVER
        db.session.commit()
    member.insert(clause["doc"], 0, "Now an observer ")
    eventually(lambda: member.errors, message="a refusal")
    assert member.errors[0]["code"] == "forbidden"
    assert "Now an observer" not in stored_text(app, clause["id"])


def test_locking_is_the_chairs(connect, drafting_room):
    _cast, recommendation, tokens = drafting_room
    client = connect(tokens["member"])
    clause = client.join(recommendation.id)["clauses"][0]
    response = requests.post(f"{client.base_url}/api/v1/clauses/{clause['id']}/lock",
                             headers={"Authorization": f"Bearer {tokens['member']}"}, timeout=10)
    assert response.status_code == 403
    assert ClauseStatus.OPEN.value == clause["status"]


def test_two_people_reordering_at_once_end_with_one_order(app, connect, drafting_room, factories):
    """Structure changes are serialised: whatever the interleaving, every editor ends with
    the same order, and it is the order the database has."""
    import threading

    _cast, recommendation, tokens = drafting_room
    for n in range(4):
        factories.clause(recommendation, text=f"Operative {n};", position=10 + n)
    watcher = connect(tokens["observer"])
    clauses = watcher.join(recommendation.id)["clauses"]
    operative = [c["id"] for c in clauses if c["kind"] == "operative"]
    base = watcher.base_url + "/api/v1/clauses"

    def move(token: str, clause_id: int, after_id: int | None) -> None:
        for _ in range(5):
            requests.post(f"{base}/{clause_id}/move", json={"after_id": after_id},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)

    threads = [threading.Thread(target=move, args=(tokens["chair"], operative[0], operative[3])),
               threading.Thread(target=move, args=(tokens["member"], operative[3], None))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        from models import Recommendation

        stored = [c.id for c in db.session.get(Recommendation, recommendation.id).live_clauses]
    # Announcements may arrive in any order; the newest version is the stored order.
    def newest() -> list[int]:
        latest = max(watcher.structure, key=lambda event: event["version"])
        return [c["id"] for c in latest["clauses"]]

    eventually(lambda: len(watcher.structure) == 10 and newest() == stored,
               message="the newest announced order is the stored order")
    assert sorted(event["version"] for event in watcher.structure) == list(range(1, 11))
    late = connect(tokens["member"])
    assert [c["id"] for c in late.join(recommendation.id)["clauses"]] == stored
    assert sorted(stored) == sorted(c["id"] for c in clauses)


@pytest.mark.parametrize(("update", "readable"), [
    (b"\x00\x00", True),  # no items, no deletions: a re-sent empty update
    (b"\x00\x01\x05\x01\x03\x02", True),  # client 5 deleted 2 items from clock 3
    (b"\x00\x00\x0a\xab", False),  # a version-2 update: bytes after the "delete set"
    (b"\x00\x01\x05\x02\x03", False),  # truncated
    (b"\x01\x00", False),  # a group of items, cut short
])
def test_version_1_updates_are_told_from_version_2_and_broken_ones(update, readable):
    try:
        yupdate.read_update(update)
    except protocol.ProtocolError:
        assert not readable
    else:
        assert readable


def test_a_binary_packet_leaves_in_one_piece_whatever_other_threads_send():
    """A y message is a header ("51-...") and an attachment; python-socketio queues them one
    by one, so without the lock another thread's packet could land in between and the
    browser would misread the stream. Drive the lock with threads switching as often as
    Python allows and check that every header is followed by its own attachments."""
    import sys
    import threading
    import types

    from drafting.realtime.patches import WholePackets

    queued: list[tuple[str, object]] = []
    server = types.SimpleNamespace(eio=types.SimpleNamespace(
        send=lambda sid, data: queued.append((sid, data))))
    server._send_eio_packet = lambda sid, pkt: queued.append((sid, pkt.data))
    WholePackets(server)

    def sender(thread: int) -> None:
        for n in range(200):
            if n % 2:  # as Manager.emit does it: Engine.IO packets one by one
                server._send_eio_packet("client", types.SimpleNamespace(data=f"52-[{thread},{n}]"))
                for part in range(2):
                    server._send_eio_packet("client", types.SimpleNamespace(data=bytes([thread, part])))
            else:  # as Server._send_packet does it, and single packets (acknowledgements)
                server.eio.send("client", f"3{thread}[{n}]")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=sender, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    stream = [data for _sid, data in queued]
    assert len(stream) == 4 * (100 * 3 + 100)
    for index, data in enumerate(stream):
        if isinstance(data, str) and data.startswith("52-"):
            thread = int(data[4:data.index(",")])
            assert stream[index + 1:index + 3] == [bytes([thread, 0]), bytes([thread, 1])], index
