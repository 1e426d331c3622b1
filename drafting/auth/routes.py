"""Sign-in, sign-out, invitations, profile, password, API tokens, language."""
from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from drafting.auth import account, services
from drafting.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    ProfileForm,
    SetPasswordForm,
    TokenForm,
)
from drafting.auth.sessions import current_session_secret, sign_in, sign_out
from drafting.config import LANGUAGES
from drafting.errors import DomainError
from drafting.extensions import limiter
from drafting.forms import Refusal, flashed, form_data, form_page, run_form, safe_next
from drafting.services import load
from models import ApiToken, Participant, db

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _account_limit() -> str:
    return str(current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"])


def _account_key() -> str:
    # Throttles guessing against one account from many addresses, not only from one.
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_account_key)
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    g.no_store = True

    def authenticate_and_sign_in() -> None:
        sign_in(services.authenticate(form.email.data or "", form.password.data or ""))

    # Every refusal (wrong password, inactive account) comes back on the form, in one message
    # that does not say which it was.
    return run_form(form, authenticate_and_sign_in,
                    done=lambda _none: redirect(safe_next(request.args.get("next"),
                                                          url_for("dashboard.index"))),
                    refused=Refusal(lambda _error: render_template("auth/login.html", form=form),
                                    errors=(DomainError,)))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    sign_out()
    db.session.commit()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def accept_invitation(token: str) -> ResponseReturnValue:
    g.no_store = True
    invitation = services.find_invitation(token)
    form = SetPasswordForm()

    def accept_and_sign_in() -> Participant:
        participant = services.accept_invitation(
            token, password=form.password.data or "", confirmation=form.confirmation.data or ""
        )
        sign_in(participant)
        return participant

    return run_form(form, accept_and_sign_in,
                    done=lambda participant: flashed(
                        _("Welcome to Plenary, %(name)s. Your password is set.",
                          name=participant.name), url_for("dashboard.index")),
                    refused=Refusal(lambda _error: form_page(
                        "auth/invitation.html", form, participant=invitation.participant)))


def _render_profile(*, profile_form: ProfileForm | None = None,
                    password_form: ChangePasswordForm | None = None,
                    token_form: TokenForm | None = None, new_token: str | None = None,
                    new_token_name: str | None = None) -> str:
    participant: Participant = current_user._get_current_object()
    if profile_form is None:
        profile_form = ProfileForm(obj=participant)
        profile_form.locale.data = participant.locale or ""
    return render_template(
        "auth/profile.html",
        profile_form=profile_form,
        password_form=password_form or ChangePasswordForm(),
        token_form=token_form or TokenForm(),
        tokens=services.live_api_tokens(participant),
        new_token=new_token,
        new_token_name=new_token_name,
    )


@bp.get("/profile")
@login_required
def profile() -> ResponseReturnValue:
    return _render_profile()


@bp.post("/profile")
@login_required
def update_profile_view() -> ResponseReturnValue:
    form = ProfileForm()
    fields = form_data(form, "name", "family_name", "affiliation", "country", "locale",
                       "publish_name")
    return run_form(form, lambda: account.update_profile(current_user, fields),
                    done=lambda _none: flashed(_("Your profile is saved."), url_for("auth.profile")),
                    refused=Refusal(lambda _error: (_render_profile(profile_form=form), 400)))


@bp.post("/profile/password")
@login_required
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    return run_form(form, lambda: services.change_password(
        current_user, current=form.current.data or "", new=form.password.data or "",
        confirmation=form.confirmation.data or "", keep_session=current_session_secret()),
        done=lambda _none: flashed(
            _("Your password is changed. Other devices have been signed out."),
            url_for("auth.profile")),
        refused=Refusal(lambda _error: (_render_profile(password_form=form), 400)))


@bp.post("/profile/tokens")
@login_required
def create_token() -> ResponseReturnValue:
    form = TokenForm()
    g.no_store = True

    def created(done: tuple[ApiToken, str]) -> ResponseReturnValue:
        token, secret = done
        # Shown in this response only: the secret is never stored, nor put in a cookie.
        return _render_profile(new_token=secret, new_token_name=token.name), 201

    return run_form(form, lambda: services.create_api_token(current_user, form.name.data or ""),
                    done=created,
                    refused=Refusal(lambda _error: (_render_profile(token_form=form), 400)))


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    return run_form(None, lambda: services.revoke_api_token(load(ApiToken, token_id), current_user),
                    done=lambda _none: flashed(_("The token is revoked."), url_for("auth.profile")))


@bp.post("/locale")
def set_locale() -> ResponseReturnValue:
    chosen = request.form.get("locale", "")
    if chosen in LANGUAGES:
        session["locale"] = chosen
        if current_user.is_authenticated:
            account.set_locale(current_user, chosen)
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("dashboard.index")))
