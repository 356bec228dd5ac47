"""The back office's failed jobs: what failed on its last attempt, retried or discarded by an
admin; above them, how jobs run here and the workers' timetable."""

from flask import current_app, flash
from flask_admin.actions import action

from app.admin.views import AdminModelView
from app.jobs.queue import retry_failed


class FailedJobView(AdminModelView):
    """Jobs kept after their last attempt failed (app/jobs/queue.py). Retry queues them again
    (inline: runs them now); one that fails again comes back as a new row. Delete discards."""

    can_create = False
    can_edit = False
    can_delete = True
    can_export = False
    list_template = "admin/failed_jobs.html"
    column_list = ("failed_at", "summary", "error", "attempts")
    column_labels = {"failed_at": "Failed (UTC)", "summary": "Job"}
    column_sortable_list = ("failed_at", "attempts")
    column_default_sort = ("failed_at", True)
    column_searchable_list = ("summary", "error")

    def render(self, template, **kwargs):
        config = current_app.config
        kwargs.update(jobs_eager=config["JOBS_EAGER"], jobs_schedule=config["JOBS_SCHEDULE"])
        return super().render(template, **kwargs)

    @action("retry", "Retry", "Run the selected jobs again?")
    def action_retry(self, ids):
        wanted = [int(i) for i in ids if str(i).isdigit()]
        retried = retry_failed(wanted)
        flash(
            f"{retried} of {len(wanted)} job(s) "
            + ("run again" if current_app.config["JOBS_EAGER"] else "queued again")
            + ": any that fails again is listed again.",
            "success",
        )
