"""The HTTP API (``/api/v1`` and ``/tiles``): one blueprint module per capability. A view parses
its parameters, calls a capability and serialises the answer; errors go to the app's one status
table (``webmap/errors.py``)."""
