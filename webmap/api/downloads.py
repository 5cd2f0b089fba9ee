"""Downloads of the API: the ``format`` parameter, and the response carrying an export file.

Every endpoint with a download takes ``format=geojson|csv|xlsx|gpkg``
(:data:`geo.files.exports.FORMATS`); those that also answer in JSON take ``format=json``
or no ``format`` for that.  GeoJSON is served inline (a browser or a map client shows it),
the other formats as attachments named ``<stem>.<format>``.
"""

from __future__ import annotations

from flask import Response, request

from geo.errors import BadInput
from geo.files.exports import FORMATS, MEDIA_TYPES, Export, export, file_name


def download_format(*, default: str) -> str:
    """The ``format`` parameter in lower case (``default`` when absent): one of
    :data:`~geo.files.exports.FORMATS`; 400 naming any other value."""
    return _checked(request.args.get("format") or default, FORMATS)


def answer_format() -> str | None:
    """The ``format`` parameter of an endpoint that also answers in JSON: None for JSON
    (``json`` or no ``format``), else one of :data:`~geo.files.exports.FORMATS`; 400
    naming any other value."""
    raw = request.args.get("format")
    if not raw or raw.lower() == "json":
        return None
    return _checked(raw, ("json", *FORMATS))


def _checked(raw: str, choices: tuple[str, ...]) -> str:
    if raw.lower() not in choices:
        raise BadInput(f"parameter 'format': {raw!r} is not one of {', '.join(choices)}")
    return raw.lower()


def download(data: Export, fmt: str, stem: str) -> Response:
    """``data`` written as ``fmt``, served as the file ``<stem>.<fmt>``."""
    disposition = "inline" if fmt == "geojson" else "attachment"
    return Response(export(data, fmt), mimetype=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{file_name(stem, fmt)}"'})
