"""Downloads of the API: the ``format`` parameter, and the response carrying an export file —
each one written to the audit log, here and nowhere else.

An endpoint with downloads declares ``format`` with :func:`webmap.routes.format_param`:
``json`` (or no ``format``) for the JSON answer where it has one, else one of
:data:`geo.files.exports.FORMATS`.  GeoJSON is served inline (a browser or a map client
shows it), the other formats as attachments named ``<stem>.<format>``.  A file download needs
the ``export`` permission on top of the route's own (:mod:`webmap.auth` checks it first).

**Audit.** Every download appends exactly one entry (:func:`webmap.auth.record`: the
principal as actor, the client's address): ``export`` with
:func:`geo.capabilities.audit_log.export_details` (the stem, the request's parameters, the
rows and the format), or, when the file is the answer of an action the log names on its own
(a batch veto, a check of existing conflicts), that action's entry (:class:`Action`) with the
format and rows added.  The entry is written before the file is sent: a download the log
could not record is not served (503).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Response

from geo.capabilities.audit_log import export_details
from geo.files.exports import FORMATS, MEDIA_TYPES, Export, export, file_name
from webmap import context
from webmap.auth import record
from webmap.routes import args, format_param

#: ``format`` of an endpoint that answers JSON or a file.
ANSWER_FORMAT = format_param(("json", *FORMATS))
#: ``format`` of an endpoint that only answers with a file (GeoJSON unless asked).
FILE_FORMAT = format_param(FORMATS, default="geojson")


@dataclass(frozen=True)
class Action:
    """The audit entry a download stands for when it is more than an export: ``action``
    (``veto_batch``, ``veto_audit``), its target and details (the detail builders of
    :mod:`geo.capabilities.audit_log`)."""

    action: str
    target: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


def requested_format() -> str | None:
    """The declared ``format`` of this request: None for JSON, else a file format."""
    fmt: str = args()["format"]
    return None if fmt == "json" else fmt


def rows_of(data: Export) -> int:
    """The rows an export holds: its first table's, else its features'."""
    if data.tables:
        return len(next(iter(data.tables.values())))
    features = data.features
    if features is None:
        return 0
    return len(features["features"]) if isinstance(features, Mapping) else len(features)


def audit_download(stem: str, fmt: str, rows: int, action: Action | None = None) -> None:
    """Append the download's one audit entry (see the module docstring)."""
    principal = context.principal()
    scope = {"scope": list(principal.scope)} if principal is not None and principal.scope else {}
    if action is None:
        filters = {k: v for k, v in args().items() if k != "format" and v is not None}
        record("export", target=stem, details=export_details(layer=stem, filters=filters, rows=rows, fmt=fmt) | scope)
    else:
        record(action.action, target=action.target, details={**action.details, "format": fmt, "rows": rows, **scope})


def send_file(body: bytes, fmt: str, stem: str, *, media_type: str | None = None) -> Response:
    """``body`` served as the file ``<stem>.<fmt>`` (GeoJSON inline, the rest as attachments)."""
    disposition = "inline" if fmt == "geojson" else "attachment"
    return Response(body, mimetype=media_type or MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{file_name(stem, fmt)}"'})


def download(data: Export, fmt: str, stem: str, *, action: Action | None = None) -> Response:
    """``data`` written as ``fmt``, audited, served as the file ``<stem>.<fmt>``."""
    body = export(data, fmt)
    audit_download(stem, fmt, rows_of(data), action)
    return send_file(body, fmt, stem)
