"""The WSGI entry point: ``app`` for uwsgi (``server:app``); ``python server.py`` in development."""

import os

from app.app_factory import create_app

app = create_app()

if __name__ == "__main__":
    app.run(
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "5000")),
        debug=app.config["ENV"] == "development",
    )
