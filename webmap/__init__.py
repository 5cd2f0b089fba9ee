"""The Flask app (``create_app`` in ``app.py``), its settings, context and status table, and
the ``riskmap`` command line: ``api/`` (JSON and tiles), ``pages/`` (HTML), ``cli/``."""
