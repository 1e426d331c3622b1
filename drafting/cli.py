"""``flask`` commands: thin edges that parse arguments, call one service and commit."""
from __future__ import annotations

import os

import click
from flask import Flask
from flask.cli import AppGroup

from drafting.auth.services import create_api_token, find_participant_by_email
from drafting.demo.data import DEMO_PASSWORD
from drafting.errors import DomainError
from models import StakeholderCategory, db


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(token)
    app.cli.add_command(participant)


@click.group(cls=AppGroup, help="The demo conference.")
def demo() -> None:
    pass


@demo.command("load", help="Load the demo conference and accounts (safe to run again).")
def demo_load() -> None:
    from drafting.demo.services import demo_logins, load_demo

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
    from drafting.participants.services import register_secretariat

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
