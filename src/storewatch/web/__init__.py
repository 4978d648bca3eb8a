"""The dashboard: a FastAPI app with a JSON API under /api and server-rendered pages (`storewatch serve`)."""

from storewatch.web.app import create_app

__all__ = ["create_app"]
