"""Background jobs on Celery, set up as Flask's documentation shows: a job runs once the
transaction that made it commits, in a worker (``make worker``) or inline (``JOBS_EAGER``)."""
