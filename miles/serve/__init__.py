"""The HTTP API (``/api/v1``) and the dashboard of ``miles serve``: ``app.py`` builds the FastAPI app, ``api.py`` and
``pages.py`` are its routes, ``service.py`` the thin layer over ``miles.queries``."""
