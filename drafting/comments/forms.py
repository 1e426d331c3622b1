"""The discussion panel's comment forms. They only carry what was typed (and the CSRF
token): every rule about bodies, anchors and replies is the services'."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField


def unix_newlines(value: object) -> object:
    """Browsers send a textarea's (and a hidden input's) line breaks as CRLF; the texts are
    stored, compared and diffed with LF, as the live editor writes them."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class PanelForm(FlaskForm):
    #: The panel's thread filter (open, resolved, all), so the answer shows the same list.
    state = HiddenField()


class ThreadForm(PanelForm):
    body = TextAreaField(_l("Comment"), render_kw={"rows": 4},
                         filters=[unix_newlines])
    #: Base64 Yjs relative positions of the selected words, set by the editor's script;
    #: both empty: a comment on the whole clause.
    anchor_start = HiddenField()
    anchor_end = HiddenField()


class ReplyForm(PanelForm):
    body = TextAreaField(_l("Reply"), render_kw={"rows": 3}, filters=[unix_newlines])
    #: The comment answered; empty: the thread as a whole.
    parent_id = HiddenField()


class CommentEditForm(PanelForm):
    body = TextAreaField(_l("Comment"), render_kw={"rows": 6}, filters=[unix_newlines])
