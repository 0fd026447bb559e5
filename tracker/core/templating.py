"""Jinja filters and globals: Luxembourg time, euros, countries, status badges."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, has_request_context, request, url_for
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from tracker.core.countries import country_name
from tracker.core.numbers import format_money, format_percent, format_plain
from tracker.core.time import humanize_delta, to_local, utcnow
from tracker.workflow.definitions import all_states


def localtime(value: datetime | None, fmt: str = "d MMM y, HH:mm") -> str:
    if value is None:
        return ""
    return format_datetime(value, fmt)


def first_error(errors) -> str:
    """The first message among a field's errors, however nested (a list of partners gives a
    list of dicts of lists)."""
    if isinstance(errors, dict):
        errors = list(errors.values())
    if isinstance(errors, (list, tuple)):
        for error in errors:
            found = first_error(error)
            if found:
                return found
        return ""
    return str(errors) if errors else ""


def localdate(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return format_date(value, fmt)


def euros(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format_money(value)


def question_text(value: dict | None) -> str:
    """A text given by language (a question's label), in the reader's."""
    from tracker.questions.operations import text

    return str(text(value))


def number(value, places: int = 0) -> str:
    """A number with the locale's separators."""
    return format_plain(value, places)


def percent(value) -> str:
    return format_percent(value)


def filesize(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def state_label(key: str, applicant: bool = False) -> str:
    state = all_states().get(key)
    if state is None:
        return key
    if applicant and state.applicant_label:
        return str(state.applicant_label)
    return str(state.label)


def state_badge(key: str, applicant: bool = False) -> Markup:
    """The status as a badge; drawn once per status, language and request (a queue page shows
    fifty of the same few)."""
    from flask import g, has_app_context

    if not has_app_context():
        return _state_badge(key, applicant)
    cache = g.setdefault("state_badges", {})
    wanted = (key, applicant, str(get_locale()))
    if wanted not in cache:
        cache[wanted] = _state_badge(key, applicant)
    return cache[wanted]


def _state_badge(key: str, applicant: bool) -> Markup:
    state = all_states().get(key)
    css = state.badge if state else "secondary"
    text_class = " text-dark" if css in {"warning", "info", "light"} else ""
    return Markup('<span class="badge text-bg-{}{}">{}</span>').format(
        css, text_class, escape(state_label(key, applicant))
    )


def countdown(deadline: datetime | None) -> str:
    if deadline is None:
        return ""
    return humanize_delta(deadline - utcnow())


def url_with(**changes) -> str:
    """The current page's URL with some query arguments changed (filters, pages, sorting)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = [value]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        localtime=localtime,
        localdate=localdate,
        euros=euros,
        question_text=question_text,
        number=number,
        percent=percent,
        country=country_name,
        first_error=first_error,
        state_label=state_label,
        state_badge=state_badge,
        countdown=countdown,
        filesize=filesize,
    )
    from tracker.audit.operations import object_title, shown_changes

    def workflow_label(key: str) -> str:
        from tracker.workflow.definitions import workflows

        workflow = workflows().get(key)
        return str(workflow.label) if workflow else key

    def application_answers(proposal):
        """The call's questions and answers as the proposal last submitted them (kept copy)."""
        from types import SimpleNamespace

        from tracker.proposals.operations import submissions_of
        from tracker.questions.operations import read_answers, sections_of, text

        kept = submissions_of(proposal)
        files = {a.id: a for a in proposal.attachments}
        items = read_answers(kept[-1].content, files) if kept else []
        by_section: dict[str, list] = {}
        for item in items:
            by_section.setdefault(item.section, []).append(item)
        own = [
            SimpleNamespace(key=s.key, title=str(text(s.title)))
            for s in sections_of(proposal.call)
            if s.key in by_section
        ]
        return SimpleNamespace(by_section=by_section, own_sections=own)

    app.jinja_env.globals.update(
        application_answers=application_answers,
        workflow_label=workflow_label,
        audit_changes=shown_changes,
        audit_title=object_title,
        url_with=url_with,
        now=utcnow,
        translate=_,
        get_locale=get_locale,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def navigation():
        from flask_login import current_user

        unread = 0
        if has_request_context() and current_user and current_user.is_authenticated:
            from tracker.notifications.operations import unread_count

            unread = unread_count(current_user)
        from tracker.identity.operations import current_identity

        return {"unread_notifications": unread, "agency": current_identity()}
