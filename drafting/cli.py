"""``flask`` commands: thin edges that parse arguments, call one service and commit."""
from __future__ import annotations

import hashlib
import os
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from drafting.auth.services import create_api_token, find_participant_by_email
from drafting.demo.data import DEMO_PASSWORD
from drafting.demo.services import demo_logins, load_demo
from drafting.errors import DomainError
from drafting.export import services as export_services
from drafting.participants.services import register_secretariat
from models import Conference, StakeholderCategory, WorkingGroup, db


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(token)
    app.cli.add_command(participant)
    app.cli.add_command(export)


@click.group(cls=AppGroup, help="The demo conference.")
def demo() -> None:
    pass


@demo.command("load", help="Load the demo conference and accounts (safe to run again).")
def demo_load() -> None:
    report = load_demo()
    db.session.commit()
    added = ", ".join(f"{kind}: {n}" for kind, n in report.created.items()) or "nothing new"
    click.echo(f"Demo data added: {added}.")
    click.echo(f"Demo logins (password: {DEMO_PASSWORD}):")
    for email, role in demo_logins():
        click.echo(f"  {email:32} {role}")


@click.group(cls=AppGroup, help="API tokens.")
def token() -> None:
    pass


@token.command("create", help="Create an API token for a participant and print it once.")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
def token_create(email: str, name: str) -> None:
    owner = find_participant_by_email(email)
    if owner is None or not owner.is_active_account:
        raise click.ClickException(f"No active participant with the email {email}.")
    try:
        _token, secret = create_api_token(owner, name)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(secret)


@click.group(cls=AppGroup, help="Participants.")
def participant() -> None:
    pass


@participant.command("create-secretariat",
                     help="Register a secretariat member and print their invitation link. "
                          "This is how a new installation gets its first account.")
@click.argument("email")
@click.option("--name", required=True, help="Full name.")
@click.option("--affiliation", default="", help="Organisation.")
def create_secretariat(email: str, name: str, affiliation: str) -> None:
    try:
        member, secret = register_secretariat({
            "email": email, "name": name, "affiliation": affiliation,
            "category": StakeholderCategory.INTERNATIONAL_ORGANISATION,
        }, created_by=None)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    base = os.environ.get("PLENARY_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    click.echo(f"Invitation link for {member.email} (valid once): {base}/invitations/{secret}")


@click.command("export", help="Write the outcome document of a conference to a file.")
@with_appcontext
@click.option("--conference", "conference_id", type=int, required=True, help="Conference id.")
@click.option("--format", "fmt", type=click.Choice(list(export_services.FORMATS)),
              required=True)
@click.option("--final", is_flag=True,
              help="The stored final document, byte for byte; refused if it is not finalised.")
@click.option("--changes", is_flag=True, help="The changes since the first draft (a draft).")
@click.option("--group", "group_id", type=int, default=None, help="Only this group's section (a draft).")
@click.option("-o", "--output", type=click.File("wb"), required=True, help="File to write ('-': stdout).")
def export(conference_id: int, fmt: str, final: bool, changes: bool, group_id: int | None,
           output: Any) -> None:
    """The command line is run by whoever runs the server: it exports as the system, with no
    participant's permission to check (``actor`` None)."""
    conference = db.session.get(Conference, conference_id)
    if conference is None:
        raise click.ClickException(f"No conference with the id {conference_id}.")
    group = None
    if group_id is not None:
        group = db.session.get(WorkingGroup, group_id)
        if group is None or group.conference_id != conference.id:
            raise click.ClickException(f"No group {group_id} in conference {conference_id}.")
    chosen = export_services.FORMATS[fmt]
    if final:
        if changes or group is not None:
            raise click.ClickException("--final is the whole conference as finalised: "
                                       "it takes neither --changes nor --group.")
        stored = export_services.final_document(conference, chosen)
        if stored is None:
            raise click.ClickException(
                f"Conference {conference_id} is not finalised in {fmt}; the secretariat "
                "finalises it on the export page. Without --final you get a draft.")
        data, kind = stored.data, "final"
    else:
        try:
            exported = export_services.export(None, conference, chosen, group=group, changes=changes)
        except DomainError as error:
            raise click.ClickException(error.message) from None
        data = exported.data
        kind = "final" if exported.final else "draft"
    output.write(data)
    output.flush()
    digest = hashlib.sha256(data).hexdigest()
    click.echo(f"Wrote {len(data)} bytes ({kind}, sha256 {digest}) to {output.name}.", err=True)
