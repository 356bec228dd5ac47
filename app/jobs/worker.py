"""The worker's entry point: ``celery --app app.jobs.worker worker --beat`` (``make worker``)
runs the jobs queued on JOBS_BROKER_URL, and its scheduler the timetable (JOBS_SCHEDULE) while
it holds the lock, with the app's configuration (JOBS_EAGER off)."""

import logging

from celery.signals import setup_logging

from app.app_factory import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]


@setup_logging.connect
def keep_the_apps_logging(loglevel=None, **_kwargs) -> None:
    """The worker logs through the app's handler (app/logs.py: LOG_FORMAT, redaction), at the
    worker's --loglevel: Celery, told by this receiver, configures no logging of its own."""
    if loglevel:
        logging.getLogger().setLevel(loglevel)
