"""Moderation's JSON API: decisions and appeals (the web UI lives in `ui/`)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field

from services.moderation import commands, store
from services.moderation.domain.charter import GroundId
from services.moderation.ui.auth import Throttled, check_password
from shared.auth import new_password_hash
from shared.http import NETWORK_ADMIN, Problem, is_network_admin
from shared.vocabulary import Outcome

router = APIRouter()


class Moderator(BaseModel):
    login: str
    territory: str | None
    role: str

    def may_act_on(self, territory: str) -> bool:
        return self.role == "network" or self.territory == territory


async def api_moderator(request: Request, authorization: Annotated[str | None, Header()] = None) -> Moderator:
    """The network-admin key (acts as a network moderator), or a moderator's HTTP Basic credentials."""
    runtime = request.app.state.runtime
    if is_network_admin(request, authorization):
        return Moderator(login=NETWORK_ADMIN, territory=None, role="network")
    if authorization and authorization.lower().startswith("basic "):
        import base64
        import binascii

        try:
            login, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            login, password = "", ""
        address = request.client.host if request.client else "unknown"
        try:
            row = await check_password(runtime.db, login[:64], password[:200], address)
        except Throttled as exc:
            raise Problem(429, "Too many failed sign-ins", "this login or this address failed too often lately",
                          headers={"Retry-After": str(max(1, round(exc.retry_after_s)))}) from None
        if row:
            return Moderator(login=row["login"], territory=row["territory"], role=row["role"])
    raise Problem(401, "Moderator credentials required", "send the network-admin key or HTTP Basic credentials",
                  headers={"WWW-Authenticate": 'Basic realm="palabre-moderation"'})


class DecisionIn(BaseModel):
    outcome: Outcome
    grounds: list[GroundId] = Field(default_factory=list, max_length=20,
                                    description="Grounds of the charter (an unknown one is a 422)")
    facts: str = Field(default="", max_length=4000)
    redacted_title: str | None = Field(default=None, max_length=300)
    redacted_body: str | None = Field(default=None, max_length=20_000)
    language: str = Field(default="fr", pattern=r"^(fr|en)$")


class AppealIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


@router.post("/v1/contributions/{contribution_id}/decision", tags=["moderation"],
             summary="A person's decision on a contribution")
async def post_decision(contribution_id: str, decision: DecisionIn, request: Request,
                        moderator: Annotated[Moderator, Depends(api_moderator)]):
    pool = request.app.state.runtime.db
    contribution = await _visible_contribution(pool, contribution_id, moderator)
    if contribution["status"] == "appealed" and moderator.role != "network":
        raise Problem(403, "Network moderator required", "appeals are decided by a network moderator")
    if decision.outcome == Outcome.HELD:
        raise Problem(422, "Not a decision", "a person decides to publish, publish redacted, or reject")
    result = await commands.decide(pool, contribution_id, moderator=moderator.login, outcome=decision.outcome,
                                   grounds=[str(ground) for ground in decision.grounds], facts=decision.facts,
                                   redacted_title=decision.redacted_title, redacted_body=decision.redacted_body,
                                   language=decision.language)
    return result.model_dump(mode="json")


@router.post("/v1/contributions/{contribution_id}/appeal", status_code=201, tags=["moderation"],
             summary="Appeal a decision: reopens it for a network moderator")
async def post_appeal(contribution_id: str, appeal: AppealIn, request: Request,
                      moderator: Annotated[Moderator, Depends(api_moderator)]):
    pool = request.app.state.runtime.db
    await _visible_contribution(pool, contribution_id, moderator)
    appeal_id = await commands.appeal(pool, contribution_id, reason=appeal.reason, filed_by=moderator.login)
    return {"appeal_id": appeal_id, "contribution_id": contribution_id, "status": "appealed"}


class AxisIn(BaseModel):
    axis: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="one of the axes of the contribution's framework")


@router.post("/v1/contributions/{contribution_id}/axis", tags=["moderation"],
             summary="Place a published contribution on another axis of its framework (the synthesis follows)")
async def post_axis(contribution_id: str, choice: AxisIn, request: Request,
                    moderator: Annotated[Moderator, Depends(api_moderator)]):
    pool = request.app.state.runtime.db
    await _visible_contribution(pool, contribution_id, moderator)
    corrected = await commands.correct_axis(pool, contribution_id, axis=choice.axis, moderator=moderator.login)
    return {"contribution_id": contribution_id, "axis": choice.axis, "changed": corrected is not None}


@router.get("/v1/contributions/{contribution_id}", tags=["moderation"],
            summary="A contribution as moderators see it, with its decisions (audit log)")
async def get_contribution(contribution_id: str, request: Request,
                           moderator: Annotated[Moderator, Depends(api_moderator)]):
    pool = request.app.state.runtime.db
    contribution = await _visible_contribution(pool, contribution_id, moderator)
    decisions = await store.decisions_of(pool, contribution_id)
    corrections = await store.axis_corrections_of(pool, contribution_id)
    return {
        "id": str(contribution["id"]), "territory": contribution["territory"], "status": contribution["status"],
        "flags": contribution["flags"], "redacted_body": contribution["redacted_body"],
        "axis": commands.axis_now(contribution, corrections),
        "decisions": [d["decision"] for d in decisions],
        "axis_corrections": [{"axis": c["axis"], "previous_axis": c["previous_axis"], "corrected_by": c["corrected_by"],
                              "corrected_at": c["corrected_at"].isoformat()} for c in corrections],
    }


async def _visible_contribution(pool, contribution_id: str, moderator: Moderator) -> dict:
    import uuid

    try:
        uuid.UUID(contribution_id)
    except ValueError:
        raise Problem(404, "Unknown contribution", f"no contribution {contribution_id!r}") from None
    contribution = await store.get_contribution(pool, contribution_id)
    if contribution is None or not moderator.may_act_on(contribution["territory"]):
        raise Problem(404, "Unknown contribution", f"no contribution {contribution_id!r} for this moderator")
    return contribution


class ModeratorIn(BaseModel):
    login: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,62}$")
    password: str = Field(min_length=10, max_length=200)
    territory: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    role: str = Field(default="territory", pattern=r"^(territory|network)$")
    language: str = Field(default="fr", pattern=r"^(fr|en)$")


@router.post("/v1/moderators", status_code=201, tags=["administration"], summary="Create a moderator account")
async def create_moderator(moderator: ModeratorIn, request: Request,
                           caller: Annotated[Moderator, Depends(api_moderator)]):
    if caller.login != "network-admin":
        raise Problem(403, "Network-admin key required", "only the network admin creates moderator accounts")
    if moderator.role == "territory" and not moderator.territory:
        raise Problem(422, "Territory required", "a territory moderator belongs to one territory")
    password_hash = await new_password_hash(moderator.password)
    status = await request.app.state.runtime.db.execute(
        "INSERT INTO moderators (login, password_hash, territory, role, language) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (login) DO NOTHING",
        moderator.login, password_hash, moderator.territory if moderator.role == "territory"
        else None, moderator.role, moderator.language,
    )
    if not status.endswith(" 1"):
        raise Problem(409, "Moderator exists", f"login {moderator.login!r} is taken")
    return {"login": moderator.login, "territory": moderator.territory, "role": moderator.role}


class PasswordIn(BaseModel):
    password: str = Field(min_length=10, max_length=200)


@router.put("/v1/moderators/{login}/password", tags=["administration"],
            summary="Change a moderator's password (the network admin, or the moderator); ends their sessions")
async def change_password(login: str, change: PasswordIn, request: Request,
                          caller: Annotated[Moderator, Depends(api_moderator)]):
    if caller.login not in ("network-admin", login):
        raise Problem(403, "Not your account", "a moderator changes only their own password")
    password_hash = await new_password_hash(change.password)
    if not await store.change_moderator(request.app.state.runtime.db, login, actor=caller.login,
                                        action="password changed", password_hash=password_hash):
        raise Problem(404, "Unknown moderator", f"no moderator {login!r}")
    return {"login": login, "password_changed": True}


@router.post("/v1/moderators/{login}/disable", tags=["administration"],
             summary="Disable a moderator: no more sign-in, sessions ended (network admin)")
async def disable_moderator(login: str, request: Request, caller: Annotated[Moderator, Depends(api_moderator)]):
    if caller.login != "network-admin":
        raise Problem(403, "Network-admin key required", "only the network admin disables moderator accounts")
    if not await store.change_moderator(request.app.state.runtime.db, login, actor=caller.login,
                                        action="disabled", disable=True):
        raise Problem(404, "Unknown moderator", f"no moderator {login!r}")
    return {"login": login, "disabled": True}


@router.get("/v1/admin/credential-events", tags=["administration"],
            summary="The audit of moderators' credentials: passwords changed, accounts disabled, newest first")
async def moderator_credential_events(request: Request, caller: Annotated[Moderator, Depends(api_moderator)],
                                      limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    if caller.login != "network-admin":
        raise Problem(403, "Network-admin key required", "only the network admin reads the audit")
    return {"events": await store.credential_events(request.app.state.runtime.db, limit)}
