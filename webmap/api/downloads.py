"""Downloads of the API: the ``format`` parameter, and the response carrying an export file.

An endpoint with downloads declares ``format`` with :func:`webmap.routes.format_param`:
``json`` (or no ``format``) for the JSON answer where it has one, else one of
:data:`geo.files.exports.FORMATS`.  GeoJSON is served inline (a browser or a map client
shows it), the other formats as attachments named ``<stem>.<format>``.
"""

from __future__ import annotations

from flask import Response

from geo.files.exports import FORMATS, MEDIA_TYPES, Export, export, file_name
from webmap.routes import args, format_param

#: ``format`` of an endpoint that answers JSON or a file.
ANSWER_FORMAT = format_param(("json", *FORMATS))
#: ``format`` of an endpoint that only answers with a file (GeoJSON unless asked).
FILE_FORMAT = format_param(FORMATS, default="geojson")


def requested_format() -> str | None:
    """The declared ``format`` of this request: None for JSON, else a file format."""
    fmt: str = args()["format"]
    return None if fmt == "json" else fmt


def download(data: Export, fmt: str, stem: str) -> Response:
    """``data`` written as ``fmt``, served as the file ``<stem>.<fmt>``."""
    disposition = "inline" if fmt == "geojson" else "attachment"
    return Response(export(data, fmt), mimetype=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{file_name(stem, fmt)}"'})
