"""The moderators' web UI: sign-in, dashboard, queues, a contribution and its decision, appeals, audit log.

Server-rendered with Jinja2 (autoescape on: contribution text only ever reaches the page escaped; the
flagged spans are cut by `highlight.pieces` and wrapped in `<mark>` by the template). Every POST carries
the session's CSRF token and must come from this site. Decisions go through `commands.decide`, as the
JSON API's do.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from services.moderation import commands, store
from services.moderation.api import AxisIn
from services.moderation.domain import overturns
from services.moderation.domain.charter import Action, load_charter
from services.moderation.ui import auth
from services.moderation.ui.highlight import pieces
from services.moderation.ui.i18n import DEFAULT_LANGUAGE, LANGUAGES, translator
from shared.errors import Conflict, DomainError, Invalid
from shared.http import problem_of
from shared.vocabulary import Outcome

UI_DIR = Path(__file__).resolve().parent
STATIC_DIR = UI_DIR / "static"
templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(UI_DIR / "templates"),
    autoescape=True,  # every template, whatever its name
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
OVERTURN_WINDOW = timedelta(days=30)
NOTICES = {"decided", "bulk", "appealed", "signed-out", "no-more", "axis-corrected", "axis-unchanged"}

router = APIRouter(include_in_schema=False)


# --- filters and forms -----------------------------------------------------------------------------

class QueueFilters(BaseModel):
    queue: Literal["pending", "reported", "appeals"] = "pending"
    territory: str = Field(default="", pattern=r"^([a-z0-9][a-z0-9-]{1,62})?$")
    ground: str = Field(default="", pattern=r"^([a-z][a-z0-9-]*)?$")
    age: Literal["", "lt1h", "lt24h", "gt24h", "gt7d"] = ""

    def query(self, **extra: str) -> str:
        values = {k: v for k, v in self.model_dump().items() if v}
        values.update({k: v for k, v in extra.items() if v})
        return urlencode(values)


class DecisionForm(BaseModel):
    action: Literal["publish", "redact", "reject"]
    ground: str = Field(default="", max_length=40)
    facts: str = Field(default="", max_length=4000)
    redacted_title: str | None = Field(default=None, max_length=300)
    redacted_body: str | None = Field(default=None, max_length=20_000)


class AppealForm(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


def _filters(request: Request, moderator: auth.SignedIn, source: dict[str, Any] | None = None) -> QueueFilters:
    source = source if source is not None else dict(request.query_params)
    try:
        filters = QueueFilters.model_validate({k: source.get(k) or "" for k in QueueFilters.model_fields})
    except ValidationError:
        filters = QueueFilters()
    if not moderator.is_network:
        filters.territory = moderator.territory or ""
        if filters.queue == "appeals":
            filters.queue = "pending"
    if filters.ground and filters.ground not in load_charter().ground_ids():
        filters.ground = ""
    return filters


# --- rendering -------------------------------------------------------------------------------------

def _language(request: Request, moderator: auth.SignedIn | None) -> str:
    chosen = request.cookies.get(auth.LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if moderator and moderator.language in LANGUAGES:
        return moderator.language
    return DEFAULT_LANGUAGE


def _age(moment: datetime | None, t) -> str:
    if moment is None:
        return ""
    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    if seconds < 60:
        return t("age.now")
    if seconds < 3600:
        return t("age.minutes", n=seconds // 60)
    if seconds < 86400:
        return t("age.hours", n=seconds // 3600)
    return t("age.days", n=seconds // 86400)


def _duration(seconds: float | None, t) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return t("duration.seconds", n=round(seconds))
    if seconds < 7200:
        return t("duration.minutes", n=round(seconds / 60))
    return t("duration.hours", n=round(seconds / 3600, 1))


def render(request: Request, template: str, moderator: auth.SignedIn | None, status: int = 200,
           **context: Any) -> HTMLResponse:
    language = _language(request, moderator)
    t = translator(language)
    charter = load_charter()
    notice = request.query_params.get("notice")
    html = templates.get_template(template).render(
        request=request, me=moderator, t=t, lang=language, languages=LANGUAGES, charter=charter,
        ground_label=lambda ground_id: _ground_label(ground_id, language),
        age=lambda moment: _age(moment, t), duration=lambda seconds: _duration(seconds, t),
        when=lambda moment: moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "",
        notice=notice if notice in NOTICES else None, path=request.url.path,
        current=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _ground_label(ground_id: str, language: str) -> str:
    try:
        return load_charter().ground(ground_id).label.get(language)
    except KeyError:
        return ground_id


def rejection_grounds() -> list[tuple[str, str]]:
    """(key, ground id) for the grounds a person may reject on, in charter order: keys 1…9 then 0."""
    grounds = [g.id for g in load_charter().grounds if g.default_action != Action.REDACT]
    return [(str((i + 1) % 10), ground) for i, ground in enumerate(grounds[:10])]


def _sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


def _local(target: str | None, default: str = "/queue") -> str:
    """Only a path of this site is followed after sign-in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {key: form.getlist(key) if key == "ids" else form.get(key) for key in form}


def _refused(request: Request, moderator: auth.SignedIn | None) -> HTMLResponse:
    return render(request, "error.html", moderator, status=403, title_key="error.csrf.title",
                  detail_key="error.csrf.detail")


# --- sign-in ---------------------------------------------------------------------------------------

@router.get("/login")
async def login_page(request: Request):
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, login_csrf=token, error=None,
                      next_path=_local(request.query_params.get("next")))
    response.set_cookie(auth.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
                        max_age=3600, secure=auth.get_moderation_settings().secure_cookies)
    return response


@router.post("/login")
async def login(request: Request):
    form = await _form(request)
    if not auth.csrf_valid(request, request.cookies.get(auth.LOGIN_CSRF_COOKIE), form.get("csrf_token")):
        return _refused(request, None)
    login_name = str(form.get("login") or "")[:64]
    password = str(form.get("password") or "")[:200]
    pool = request.app.state.runtime.db
    status, error, headers = 401, "login.failed", {}
    try:
        moderator = await auth.check_password(pool, login_name, password, _address(request)) if login_name else None
    except auth.Throttled as exc:
        moderator, status, error = None, 429, "login.throttled"
        headers = {"Retry-After": str(max(1, round(exc.retry_after_s)))}
    if moderator is None:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", None, status=status, login_csrf=token, error=error,
                          next_path=_local(form.get("next")))
        response.headers.update(headers)
        response.set_cookie(auth.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
                            max_age=3600)
        return response
    session_token = await auth.start_session(pool, login_name)
    response = RedirectResponse(_local(form.get("next")), status_code=303)
    response.set_cookie(auth.SESSION_COOKIE, session_token, **auth.session_cookie_options())
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/login")
    return response


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/logout")
async def logout(request: Request):
    moderator = await auth.signed_in(request)
    form = await _form(request)
    if moderator is None:
        return _sign_in_redirect(request)
    if not auth.csrf_valid(request, moderator.csrf_token, form.get("csrf_token")):
        return _refused(request, moderator)
    await auth.end_session(request.app.state.runtime.db, request)
    response = RedirectResponse("/login?notice=signed-out", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/language/{language}")
async def choose_language(language: str, request: Request):
    """A preference kept in a cookie (it changes nothing on the server, so a plain link is enough)."""
    response = RedirectResponse(_local(request.query_params.get("next"), "/"), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(auth.LANGUAGE_COOKIE, language, samesite="lax", path="/", max_age=365 * 86400)
    return response


# --- dashboard, queues, log ------------------------------------------------------------------------

@router.get("/")
async def dashboard(request: Request):
    moderator = await auth.signed_in(request)
    if moderator is None:
        return _sign_in_redirect(request)
    pool = request.app.state.runtime.db
    territory = None if moderator.is_network else moderator.territory
    figures = await store.dashboard(pool, territory=territory)
    counts = await store.overturns(pool, since=datetime.now(UTC) - OVERTURN_WINDOW, territory=territory,
                                   holding_grounds=overturns.holding_grounds())
    return render(request, "dashboard.html", moderator, figures=figures,
                  overturns=overturns.overturns_by_ground(**counts), overturn_window_days=OVERTURN_WINDOW.days)


@router.get("/queue")
async def queue(request: Request):
    moderator = await auth.signed_in(request)
    if moderator is None:
        return _sign_in_redirect(request)
    filters = _filters(request, moderator)
    pool = request.app.state.runtime.db
    scope = {"territory": filters.territory or None, "ground": filters.ground or None, "age": filters.age or None}
    counts = await store.queue_counts(pool, **scope)
    if not moderator.is_network:
        counts.pop("appeals", None)
    items = await store.queue_items(pool, filters.queue, **scope, limit=100)
    territories = [] if not moderator.is_network else [
        row["id"] for row in await pool.fetch("SELECT id FROM territories ORDER BY id")]
    for item in items:
        item["body_pieces"] = pieces(item["body"], item["flags"], "body")
        item["title_pieces"] = pieces(item["title"] or "", item["flags"], "title")
        item["grounds"] = list(dict.fromkeys(flag["ground"] for flag in item["flags"]))
    return render(request, "queue.html", moderator, filters=filters, counts=counts, items=items,
                  territories=territories)


@router.post("/queue/reject-spam")
async def reject_spam(request: Request):
    """Bulk action for obvious spam: every selected contribution rejected on the spam ground."""
    moderator = await auth.signed_in(request)
    if moderator is None:
        return _sign_in_redirect(request)
    form = await _form(request)
    if not auth.csrf_valid(request, moderator.csrf_token, form.get("csrf_token")):
        return _refused(request, moderator)
    filters = _filters(request, moderator, form)
    pool = request.app.state.runtime.db
    ids = [i for i in form.get("ids") or [] if _is_uuid(i)][:200]
    rejected = 0
    for contribution_id in ids:
        contribution = await store.get_contribution(pool, contribution_id)
        if contribution is None or not _may_decide(moderator, contribution):
            continue
        await commands.decide(pool, contribution_id, moderator=moderator.login, outcome=Outcome.REJECTED,
                              grounds=["spam"], facts="", language=_statement_language(contribution))
        rejected += 1
    return RedirectResponse(f"/queue?{filters.query(notice='bulk', n=str(rejected))}", status_code=303)


@router.get("/log")
async def decision_log(request: Request):
    moderator = await auth.signed_in(request)
    if moderator is None:
        return _sign_in_redirect(request)
    people_only = request.query_params.get("people") == "1"
    territory = _filters(request, moderator).territory or None
    entries = await store.decision_log(request.app.state.runtime.db, territory=territory, people_only=people_only,
                                       limit=200)
    return render(request, "log.html", moderator, entries=entries, people_only=people_only, territory=territory)


# --- one contribution ------------------------------------------------------------------------------

def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _may_decide(moderator: auth.SignedIn, contribution: dict[str, Any]) -> bool:
    if not moderator.may_act_on(contribution["territory"]):
        return False
    return contribution["status"] != "appealed" or moderator.is_network


def _statement_language(contribution: dict[str, Any]) -> str:
    return contribution["language"] if contribution["language"] in LANGUAGES else DEFAULT_LANGUAGE


async def _contribution_page(request: Request, moderator: auth.SignedIn, contribution: dict[str, Any],
                             filters: QueueFilters, *, status: int = 200, error: str | None = None,
                             leftovers: list[dict[str, Any]] | None = None, edited_body: str | None = None,
                             edited_title: str | None = None, form_facts: str = "") -> HTMLResponse:
    pool = request.app.state.runtime.db
    contribution_id = str(contribution["id"])
    decisions = await store.decisions_of(pool, contribution_id)
    appeals = await store.appeals_of(pool, contribution_id)
    axis_corrections = await store.axis_corrections_of(pool, contribution_id)
    framework = await store.framework_of(pool, contribution["consultation"]) or {}
    draft_body = edited_body if edited_body is not None else (contribution["redacted_body"] or contribution["body"])
    draft_title = edited_title if edited_title is not None else (
        contribution["redacted_title"] if contribution["redacted_title"] is not None else contribution["title"])
    return render(
        request, "contribution.html", moderator, status=status, c=contribution, filters=filters,
        title_pieces=pieces(contribution["title"] or "", contribution["flags"], "title"),
        body_pieces=pieces(contribution["body"], contribution["flags"], "body"),
        leftover_pieces=pieces(draft_body, leftovers or [], "body") if leftovers else None,
        decisions=decisions, appeals=appeals, open_appeal=next((a for a in appeals if a["resolved_at"] is None), None),
        may_decide=_may_decide(moderator, contribution), draft_body=draft_body, draft_title=draft_title,
        grounds=rejection_grounds(), error=error, form_facts=form_facts,
        flag_grounds=list(dict.fromkeys(flag["ground"] for flag in contribution["flags"])),
        axes=(axes := _axis_choices(framework, _language(request, moderator))), axis_labels=dict(axes),
        axis_corrections=axis_corrections, audit=audit_trail(decisions, axis_corrections, appeals),
        axis=commands.axis_now(contribution, axis_corrections),
        may_correct_axis=moderator.may_act_on(contribution["territory"])
        and contribution["status"] in commands.PUBLIC_STATUSES,
    )


def audit_trail(decisions: list[dict[str, Any]], axis_corrections: list[dict[str, Any]],
                appeals: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """A contribution's decisions, axis corrections and appeals as ("decision" | "axis" | "appeal", row), in
    the order they happened (an appeal at the time it was filed). Sorting is stable: rows of one kind at
    the same instant keep their order."""
    entries = [("decision", row["decided_at"], row) for row in decisions]
    entries += [("axis", row["corrected_at"], row) for row in axis_corrections]
    entries += [("appeal", row["filed_at"], row) for row in appeals]
    return [(kind, row) for kind, _, row in sorted(entries, key=lambda entry: entry[1])]


def _axis_choices(framework: dict[str, Any], language: str) -> list[tuple[str, str]]:
    """(id, label) of each axis of a framework, labelled in the moderator's language where it has one."""
    return [(axis["id"], (language == "en" and axis.get("label_en")) or axis["label"])
            for axis in framework.get("axes", [])]


async def _visible(request: Request, moderator: auth.SignedIn, contribution_id: str) -> dict[str, Any] | None:
    if not _is_uuid(contribution_id):
        return None
    contribution = await store.get_contribution(request.app.state.runtime.db, contribution_id)
    if contribution is None or not moderator.may_act_on(contribution["territory"]):
        return None
    return contribution


def _not_found(request: Request, moderator: auth.SignedIn) -> HTMLResponse:
    return render(request, "error.html", moderator, status=404, title_key="error.notfound.title",
                  detail_key="error.notfound.detail")


@router.get("/contributions/{contribution_id}")
async def contribution_page(contribution_id: str, request: Request):
    moderator = await auth.signed_in(request)
    if moderator is None:
        return _sign_in_redirect(request)
    contribution = await _visible(request, moderator, contribution_id)
    if contribution is None:
        return _not_found(request, moderator)
    return await _contribution_page(request, moderator, contribution, _filters(request, moderator))


async def _next_in_queue(request: Request, filters: QueueFilters, contribution: dict[str, Any] | None,
                         notice: str) -> RedirectResponse:
    """To the next contribution of the same queue after this one (else the first), or back to the queue."""
    pool = request.app.state.runtime.db
    scope = {"territory": filters.territory or None, "ground": filters.ground or None, "age": filters.age or None}
    after = (contribution["received_at"], str(contribution["id"])) if contribution else None
    items = await store.queue_items(pool, filters.queue, **scope, limit=1, after=after)
    if not items and after is not None:
        items = await store.queue_items(pool, filters.queue, **scope, limit=2)
        items = [i for i in items if contribution is None or i["id"] != contribution["id"]]
    if items:
        return RedirectResponse(f"/contributions/{items[0]['id']}?{filters.query(notice=notice)}", status_code=303)
    return RedirectResponse(f"/queue?{filters.query(notice='no-more' if notice != 'decided' else notice)}",
                            status_code=303)


@router.get("/contributions/{contribution_id}/next")
async def skip(contribution_id: str, request: Request):
    moderator = await auth.signed_in(request)
    if moderator is None:
        return _sign_in_redirect(request)
    contribution = await _visible(request, moderator, contribution_id)
    return await _next_in_queue(request, _filters(request, moderator), contribution, "")


@dataclass
class _Posted:
    """A form posted about one contribution, by a signed-in moderator who may see it."""

    moderator: auth.SignedIn
    contribution: dict[str, Any]
    form: dict[str, Any]
    filters: QueueFilters


async def _posted(request: Request, contribution_id: str) -> _Posted | Response:
    """What a form posted about a contribution brings, or the answer that refuses it: to the sign-in, a
    missing or foreign CSRF token, a contribution that is not there (or not of the moderator's territory)."""
    moderator = await auth.signed_in(request)
    if moderator is None:
        return _sign_in_redirect(request)
    form = await _form(request)
    if not auth.csrf_valid(request, moderator.csrf_token, form.get("csrf_token")):
        return _refused(request, moderator)
    contribution = await _visible(request, moderator, contribution_id)
    if contribution is None:
        return _not_found(request, moderator)
    return _Posted(moderator, contribution, form, _filters(request, moderator, form))


@router.post("/contributions/{contribution_id}/decide")
async def decide(contribution_id: str, request: Request) -> Response:
    posted = await _posted(request, contribution_id)
    if isinstance(posted, Response):
        return posted
    moderator, contribution, form, filters = posted.moderator, posted.contribution, posted.form, posted.filters
    if not _may_decide(moderator, contribution):
        return await _contribution_page(request, moderator, contribution, filters, status=403,
                                        error="error.network-only")
    try:
        decision = DecisionForm.model_validate(form)
    except ValidationError:
        return await _contribution_page(request, moderator, contribution, filters, status=422,
                                        error="error.invalid-form")
    outcome = {"publish": Outcome.PUBLISHED, "redact": Outcome.PUBLISHED_REDACTED, "reject": Outcome.REJECTED}[
        decision.action]
    grounds: list[str] = []
    redacted_title = redacted_body = None
    if outcome == Outcome.REJECTED:
        if decision.ground not in {ground for _, ground in rejection_grounds()}:
            return await _contribution_page(request, moderator, contribution, filters, status=422,
                                            error="error.ground-required", form_facts=decision.facts)
        grounds = [decision.ground]
    elif outcome == Outcome.PUBLISHED_REDACTED:
        # the textarea holds the text to publish; unchanged, it is the automated redaction as it stands
        automated_body = contribution["redacted_body"] or contribution["body"]
        if decision.redacted_body is not None and decision.redacted_body.replace("\r\n", "\n") != automated_body:
            redacted_body = decision.redacted_body.replace("\r\n", "\n")
        automated_title = contribution["redacted_title"] if contribution["redacted_title"] is not None \
            else contribution["title"]
        if decision.redacted_title is not None and (decision.redacted_title or None) != (automated_title or None):
            redacted_title = decision.redacted_title
        if redacted_body is not None and redacted_title is None and contribution["title"] is not None:
            redacted_title = automated_title
        if redacted_title is not None and redacted_body is None:
            redacted_body = automated_body
    try:
        await commands.decide(request.app.state.runtime.db, contribution_id, moderator=moderator.login,
                              outcome=outcome, grounds=grounds, facts=decision.facts.strip(),
                              redacted_title=redacted_title, redacted_body=redacted_body,
                              language=_statement_language(contribution))
    except DomainError as refused:
        leftovers = refused.extra.get("errors") if isinstance(refused, Invalid) else None
        return await _contribution_page(
            request, moderator, contribution, filters, status=problem_of(refused)[0],
            error="error.personal-data-left" if leftovers else "error.invalid-form",
            leftovers=[dict(flag, ground="personal-data") for flag in leftovers or []],
            edited_body=decision.redacted_body, edited_title=decision.redacted_title, form_facts=decision.facts,
        )
    return await _next_in_queue(request, filters, contribution, "decided")


@router.post("/contributions/{contribution_id}/axis")
async def correct_axis(contribution_id: str, request: Request) -> Response:
    posted = await _posted(request, contribution_id)
    if isinstance(posted, Response):
        return posted
    moderator, contribution, form, filters = posted.moderator, posted.contribution, posted.form, posted.filters
    try:
        choice = AxisIn.model_validate(form)
        corrected = await commands.correct_axis(request.app.state.runtime.db, contribution_id, axis=choice.axis,
                                                moderator=moderator.login)
    except ValidationError:
        return await _contribution_page(request, moderator, contribution, filters, status=422,
                                        error="error.not-an-axis")
    except DomainError as refused:
        error = "error.axis-unpublished" if isinstance(refused, Conflict) else "error.not-an-axis"
        return await _contribution_page(request, moderator, contribution, filters, status=problem_of(refused)[0],
                                        error=error)
    notice = "axis-corrected" if corrected else "axis-unchanged"
    return RedirectResponse(f"/contributions/{contribution_id}?{filters.query(notice=notice)}", status_code=303)


@router.post("/contributions/{contribution_id}/appeal")
async def file_appeal(contribution_id: str, request: Request) -> Response:
    posted = await _posted(request, contribution_id)
    if isinstance(posted, Response):
        return posted
    moderator, contribution, form, filters = posted.moderator, posted.contribution, posted.form, posted.filters
    try:
        appeal = AppealForm.model_validate(form)
        await commands.appeal(request.app.state.runtime.db, contribution_id, reason=appeal.reason.strip(),
                              filed_by=moderator.login)
    except ValidationError:
        return await _contribution_page(request, moderator, contribution, filters, status=422,
                                        error="error.reason-required")
    except DomainError as refused:
        return await _contribution_page(request, moderator, contribution, filters, status=problem_of(refused)[0],
                                        error="error.appeal-refused")
    return RedirectResponse(f"/contributions/{contribution_id}?{filters.query(notice='appealed')}", status_code=303)
