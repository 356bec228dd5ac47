"""The worker's entry point: ``celery --app app.jobs.worker worker --beat`` (``make worker``)
runs the jobs queued on JOBS_BROKER_URL, and its scheduler the timetable (JOBS_SCHEDULE) while
it holds the lock, with the app's configuration (JOBS_EAGER off)."""

from app.app_factory import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
