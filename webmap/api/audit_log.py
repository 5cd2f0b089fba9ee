"""The audit log over HTTP (registered under /api/v1 by webmap.app): ``GET /audit-log``.

``?since=&until=`` (ISO 8601, UTC unless stated; ``since`` ≤ time < ``until``), ``&user=``
(the user's entries and its tokens'), ``&action=``, paged by id: ``&after_id=`` (entries after
that id) and ``&limit=`` (1–1000, default 100); the answer's ``next_after_id`` asks for the
next page (None on the last).  ``&format=csv|xlsx`` answers the page as a file
(:func:`geo.capabilities.audit_log.log_export`) — a download: it needs ``export`` too and is
itself written to the log as an ``export``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from geo.audit_log import ACTION, AuditQuery, parse_utc
from geo.capabilities.audit_log import log_export, read_log
from geo.errors import BadInput
from webmap import context
from webmap.api.downloads import audit_download, requested_format, send_file
from webmap.routes import Param, args, declare, format_param

blueprint = Blueprint("api_audit_log", __name__)

#: Most entries one page holds.
MAX_PAGE = 1000
#: The largest id one may ask to start after (the log's ids are 64-bit).
MAX_ID = 2**63 - 1

SINCE = Param("since", "string", "entries at or after this time (ISO 8601; UTC unless stated)", optional=True,
              max_length=40)
UNTIL = Param("until", "string", "entries before this time (ISO 8601)", optional=True, max_length=40)
USER = Param("user", "string", "entries of this user and of its API tokens", optional=True, max_length=64)
ACTION_PARAM = Param("action", "string", "entries of this action (login, veto, export, user_add, …)",
                     optional=True, max_length=64)
AFTER_ID = Param("after_id", "integer", "entries after this id (the previous page's next_after_id)", default=0,
                 minimum=0, maximum=MAX_ID)
LIMIT = Param("limit", "integer", "entries per page", default=100, minimum=1, maximum=MAX_PAGE)


def _time(name: str, value: object) -> datetime | None:
    if not value:
        return None
    try:
        return parse_utc(str(value))
    except BadInput as exc:
        raise BadInput(f"parameter {name!r}: {exc}") from None


def query_of(values: Mapping[str, Any]) -> AuditQuery:
    """The :class:`geo.audit_log.AuditQuery` of the parsed parameters, one entry beyond the
    page (to tell whether there is a next); 400 naming a time that is not one or an action
    name that cannot exist."""
    action = values["action"]
    if action is not None and not ACTION.fullmatch(action):
        raise BadInput(f"parameter 'action': {action!r} is not an action name (login, veto, export, …)")
    return AuditQuery(since=_time("since", values["since"]), until=_time("until", values["until"]),
                      user=values["user"] or None, action=action or None, after_id=values["after_id"],
                      limit=values["limit"] + 1)


@blueprint.get("/audit-log")
@declare("audit_log.read", "The audit log (hash-chained): who did what, when, from where; paged by id",
         SINCE, UNTIL, USER, ACTION_PARAM, AFTER_ID, LIMIT, format_param(("json", "csv", "xlsx")),
         tags=("audit",))
def audit_log() -> ResponseReturnValue:
    values = args()
    query = query_of(values)
    entries = read_log(context.store(), query)
    limit: int = values["limit"]
    page, more = entries[:limit], len(entries) > limit
    fmt = requested_format()
    if fmt is None:
        return jsonify(entries=[e.as_dict() for e in page], next_after_id=page[-1].id if more else None)
    body = log_export(page, fmt, query=query)
    audit_download("audit_log", fmt, len(page))
    return send_file(body, fmt, "audit_log")
