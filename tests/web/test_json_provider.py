"""The app's JSON answers (orjson) follow Flask's text rules."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
from flask import Flask, jsonify

from webmap.json_provider import FastJSONProvider


def test_answers_are_compact_sorted_utf8_and_valid_json() -> None:
    app = Flask(__name__)
    app.json = FastJSONProvider(app)

    @app.get("/x")
    def x() -> object:
        return jsonify({"b": 1, "a": "事故点", 3: np.int64(7), "nan": float("nan"), "day": date(2026, 1, 2),
                        "arr": np.array([1.5, 2.5])})

    body = app.test_client().get("/x").data
    assert body.startswith(b'{"3":7,"a":"\xe4\xba\x8b') and body.endswith(b"}\n")  # sorted keys, UTF-8, compact
    parsed = json.loads(body)  # valid JSON: NaN is null
    assert parsed["nan"] is None and parsed["arr"] == [1.5, 2.5]
    assert parsed["day"] == "Fri, 02 Jan 2026 00:00:00 GMT"  # Flask's own date format, as before
    with app.test_request_context():
        assert app.json.dumps({"datum": "gcj02"}) == '{"datum": "gcj02"}'  # templates' tojson unchanged
