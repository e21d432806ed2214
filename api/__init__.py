"""Outer interfaces: the HTTP API (FastAPI) and the ``itembank`` command line."""
