"""`POST /api/v1/complaints` and `GET /api/v1/complaints/C-42`: complaints from outside Slack.

Bearer tokens from API_TOKENS (401), API_RATE_LIMIT requests a minute per token (429),
JSON only (415), bodies up to the web side's limit (413), errors that name the field
(422), and an Idempotency-Key under which a retry returns the first complaint (200,
`Idempotent-Replayed: true`) instead of logging another one. The complaint is logged
as `/complaint` logs it (bot/intake.py) and posted to the team's channel afterwards,
on the publisher threads, like a complaint logged in Slack.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from flask import Blueprint, Response, jsonify, request
from slack_sdk import WebClient

from bot import complaints, intake, rate_limit
from bot.errors import InvalidInput, NotFound
from bot.services import Services
from handlers import team_copy
from models.complaints import Complaint

logger = logging.getLogger("servicedesk.web")
OPENAPI = Path(__file__).with_name("static") / "openapi.json"


def json_error(status: int, message: str, *, errors: list[dict] | None = None, headers: dict | None = None) -> Response:
    response = jsonify({"error": message, **({"errors": errors} if errors else {})})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def complaint_json(complaint: Complaint) -> dict:
    """What a tool that logged a complaint may know of it: never notes or other customers."""
    def iso(moment):
        return moment.isoformat() if moment else None

    return {
        "reference": complaint.reference, "id": complaint.id, "status": complaint.status,
        "severity": complaint.severity, "category": complaint.category, "source": complaint.source,
        "created_at": iso(complaint.created_at), "first_responded_at": iso(complaint.first_responded_at),
        "resolved_at": iso(complaint.resolved_at), "url": f"/api/v1/complaints/{complaint.reference}",
    }


class ApiRefusal(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def blueprint(services: Services, client: WebClient) -> Blueprint:
    api = Blueprint("intake_api", __name__, url_prefix="/api/v1")
    settings = services.settings

    @api.errorhandler(ApiRefusal)
    def refused(refusal: ApiRefusal) -> Response:
        logger.warning("refused %s %r: %s", request.method[:10], request.path[:100], refusal.response.status)
        return refusal.response

    def caller_token() -> str:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        token = intake.matching_token(given.strip(), settings.api_tokens) if scheme.lower() == "bearer" else None
        if token is None:
            raise ApiRefusal(json_error(401, "send one of API_TOKENS as `Authorization: Bearer <token>`",
                                        errors=[{"field": "Authorization", "message": "missing or unknown token"}],
                                        headers={"WWW-Authenticate": 'Bearer realm="servicedesk"'}))
        wait = rate_limit.allow(services.open_session, key=rate_limit.rate_key("api", intake.token_id(token)),
                                limit=settings.api_rate_limit, now=services.clock())
        if wait:
            raise ApiRefusal(json_error(429, f"more than {settings.api_rate_limit} requests a minute with this token",
                                        headers={"Retry-After": str(wait)}))
        return token

    @api.post("/complaints")
    def create() -> Response:
        token = caller_token()
        if request.mimetype != "application/json":
            raise ApiRefusal(json_error(415, "send the complaint as JSON (Content-Type: application/json)",
                                        errors=[{"field": "Content-Type", "message": "must be application/json"}]))
        raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: 413 before it is read
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiRefusal(json_error(400, f"the body is not JSON: {exc}"[:200])) from None
        key = request.headers.get("Idempotency-Key")
        problem = intake.check_idempotency_key(key) if key is not None else None
        if problem:
            raise ApiRefusal(json_error(422, problem, errors=[{"field": "Idempotency-Key", "message": problem}]))
        try:
            incoming = intake.read_intake(payload, categories=settings.complaint_categories)
            logged = intake.log_from_api(
                services.open_session, draft=incoming, token=token, idempotency_key=key,
                body_hash=hashlib.sha256(raw).hexdigest()[:32], owner=settings.intake_owner,
                owners=settings.intake_owners, now=services.clock(),
            )
        except intake.IntakeRejected as rejected:
            raise ApiRefusal(json_error(422, str(rejected), errors=[
                {"field": p.field, "message": p.message} for p in rejected.problems])) from None
        except InvalidInput as exc:
            raise ApiRefusal(json_error(422, str(exc), errors=[{"field": "description", "message": str(exc)}])) from None
        except intake.IdempotencyConflict:
            raise ApiRefusal(json_error(409, "this Idempotency-Key was used for a different complaint", errors=[
                {"field": "Idempotency-Key", "message": "already used with another body"}])) from None
        complaint = logged.complaint
        if logged.replayed:
            response = jsonify(complaint_json(complaint))
            response.headers["Idempotent-Replayed"] = "true"
            return response
        logger.info("%s logged through the API (%s)", complaint.reference, complaint.source)
        services.after_ack(lambda: team_copy.publish_new(services, client, complaint))
        response = jsonify(complaint_json(complaint))
        response.status_code = 201
        response.headers["Location"] = complaint_json(complaint)["url"]
        return response

    @api.get("/complaints/<reference>")
    def status(reference: str) -> Response:
        token = caller_token()
        try:
            complaint_id = complaints.parse_reference(reference)
            with services.open_session() as session:
                complaint = intake.complaint_for_token(session, complaint_id=complaint_id, token=token)
        except (InvalidInput, NotFound) as exc:
            raise ApiRefusal(json_error(404, str(exc))) from None
        return jsonify(complaint_json(complaint))

    @api.get("/openapi.json")
    def openapi() -> Response:
        return Response(OPENAPI.read_bytes(), mimetype="application/json")

    return api
