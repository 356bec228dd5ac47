"""Background jobs (app/jobs/): queued by the unit that commits what they tell, run inline by
default (JOBS_EAGER), and an e-mail job sends once however many times it runs."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from app.accounts.mail import send_security_mail
from app.extensions import db
from app.jobs.models import FailedJob, SentMail
from app.jobs.queue import retry_failed
from app.orders import emails
from app.orders.models import Order, OrderStatus
from app.timestamps import utcnow
from app.transactions import atomic
from tests.factories import ProductFactory, create, place
from tests.helpers import admin_alerts, admin_form_token, csrf_token, run_together
from tests.test_guest_checkout import add, guest_checkout


@pytest.fixture
def tea(app):
    return create(app, ProductFactory, name="Green Tea", price_cents=1250, stock=50)


def order_id(app, number) -> int:
    with app.app_context():
        return db.session.scalar(select(Order.id).where(Order.number == number))


def test_every_job_is_a_task_of_the_apps_celery(app):
    celery = app.extensions["celery"]

    assert emails.ORDER_MAIL in celery.tasks
    assert celery.conf.task_always_eager is True  # the default: no Redis, no worker
    assert celery.conf.task_acks_late is True


def test_the_confirmation_is_sent_once_however_often_its_job_runs(app, tea, user_factory, outbox):
    number = place(app, user_factory(), (tea, 1))
    assert len(outbox) == 1

    with app.app_context():
        again = emails.send_order_mail(emails.CONFIRMATION, order_id(app, number))
        keys = db.session.scalars(select(SentMail.key)).all()

    assert again is False
    assert len(outbox) == 1
    assert keys == [f"order:{order_id(app, number)}:confirmation"]


def test_a_unit_that_rolls_back_queues_no_mail(app, tea, user_factory, outbox):
    number = place(app, user_factory(), (tea, 1))
    outbox.clear()

    @atomic
    def ship_then_fail():
        emails.queue_shipped(db.session.scalar(select(Order).where(Order.number == number)))
        raise RuntimeError("the unit fails after queueing")

    with app.app_context(), pytest.raises(RuntimeError):
        ship_then_fail()

    assert outbox == []


def test_a_mail_whose_sending_fails_leaves_no_mark_and_its_retry_sends_it(
    app, tea, user_factory, outbox, monkeypatch
):
    number = place(app, user_factory(), (tea, 1))
    outbox.clear()
    from flask_mailman import EmailMessage

    real_send = EmailMessage.send

    def refused(self, *args):
        raise ConnectionRefusedError("the SMTP server is down")

    monkeypatch.setattr(EmailMessage, "send", refused)
    with app.app_context(), pytest.raises(ConnectionRefusedError):
        emails.send_order_mail(emails.SHIPPED, order_id(app, number))
    monkeypatch.setattr(EmailMessage, "send", real_send)

    with app.app_context():
        assert db.session.get(SentMail, f"order:{order_id(app, number)}:shipped") is None
        assert emails.send_order_mail(emails.SHIPPED, order_id(app, number)) is True
    assert [m.subject for m in outbox] == [f"Your order {number} has shipped"]


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_the_same_mail_job_run_by_eight_workers_at_once_sends_one_mail(pooled_app, tea_on):
    """A retry and a redelivery at the same moment: one run sends, the others find its row."""
    number = place(pooled_app, tea_on["user"], (tea_on["tea"], 1))
    mailman = pooled_app.extensions["mailman"]
    mailman.outbox = []
    record = order_id(pooled_app, number)

    def run(_i):
        with pooled_app.app_context():
            return emails.send_order_mail(emails.SHIPPED, record)

    results = run_together(8, run)

    assert results.count(True) == 1, results
    assert results.count(False) == 7, results
    assert len(mailman.outbox) == 1


@pytest.fixture
def tea_on(pooled_app):
    from tests.factories import UserFactory

    return {
        "tea": create(pooled_app, ProductFactory, name="Green Tea", stock=10),
        "user": create(pooled_app, UserFactory, email="buyer@example.com"),
    }


def test_flask_securitys_mails_are_jobs_sent_once(app, client, user_factory, outbox):
    user_factory(email="shopper@example.com")

    response = client.post(
        "/reset",
        data={"email": "shopper@example.com", "csrf_token": csrf_token(client, "/reset")},
    )

    assert response.status_code in (200, 302)
    [message] = outbox
    assert "/reset/" in message.body
    with app.app_context():
        [key] = db.session.scalars(select(SentMail.key)).all()
        again = send_security_mail(
            key, "Again", "shopper@example.com", "shop@example.com", "", None
        )
    assert key.startswith("security:reset_instructions:")
    assert again is False
    assert len(outbox) == 1


def test_the_jobs_command_says_jobs_run_inline_by_default(app):
    result = app.test_cli_runner().invoke(args=["jobs"])

    assert result.exit_code == 0
    assert "Jobs run inline" in result.output


# A job that fails for good is kept for an admin to retry.


@pytest.fixture
def smtp_down(monkeypatch):
    """Every e-mail refused, as by an SMTP server that is down, until ``.up()``."""
    from flask_mailman import EmailMessage

    real_send = EmailMessage.send

    def refused(self, *args):
        raise ConnectionRefusedError("the SMTP server is down")

    monkeypatch.setattr(EmailMessage, "send", refused)

    class Switch:
        @staticmethod
        def up():
            monkeypatch.setattr(EmailMessage, "send", real_send)

    return Switch


def failed_rows(app) -> list[FailedJob]:
    with app.app_context():
        rows = db.session.scalars(select(FailedJob).order_by(FailedJob.id)).all()
        db.session.expunge_all()
        return list(rows)


def test_a_mail_that_fails_inline_is_kept_and_the_checkout_still_answers(
    app, client, tea, outbox, smtp_down
):
    add(client, tea)

    response = guest_checkout(client)

    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    [failed] = failed_rows(app)
    with app.app_context():
        number = db.session.scalar(select(Order.number))
    assert failed.name == emails.ORDER_MAIL
    assert failed.summary == f"The confirmation e-mail of order {number}"
    assert failed.error == "ConnectionRefusedError: the SMTP server is down"
    assert failed.attempts == 1
    assert failed.args == [emails.CONFIRMATION, order_id(app, number)]
    assert outbox == []


def test_an_admin_retries_a_failed_job_from_the_back_office(
    app, as_admin, tea, user_factory, outbox, smtp_down
):
    number = place(app, user_factory(), (tea, 1))
    [failed] = failed_rows(app)
    page = as_admin.get("/admin/failed-jobs/").get_data(as_text=True)
    assert f"The confirmation e-mail of order {number}" in page
    assert "ConnectionRefusedError: the SMTP server is down" in page

    retried_down = as_admin.post(
        "/admin/failed-jobs/action/",
        data={"action": "retry", "rowid": [str(failed.id)], "csrf_token": admin_form_token(page)},
        follow_redirects=True,
    )
    [again] = failed_rows(app)  # failed again: listed again, as a new row
    smtp_down.up()
    page = retried_down.get_data(as_text=True)
    retried_up = as_admin.post(
        "/admin/failed-jobs/action/",
        data={"action": "retry", "rowid": [str(again.id)], "csrf_token": admin_form_token(page)},
        follow_redirects=True,
    )

    assert admin_alerts(retried_up.get_data(as_text=True)) == [
        "1 of 1 job(s) run again: any that fails again is listed again."
    ]
    assert (again.summary, again.error) == (failed.summary, failed.error)
    assert failed_rows(app) == []
    assert [m.subject for m in outbox] == [f"Your order {number}"]


def test_the_jobs_command_lists_retries_and_purges(app, tea, user_factory, outbox, smtp_down):
    number = place(app, user_factory(), (tea, 1))
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["jobs"])
    smtp_down.up()
    missing = runner.invoke(args=["jobs", "retry"])
    retried = runner.invoke(args=["jobs", "retry", "--all"])
    with app.app_context():
        db.session.add(SentMail(key="old", sent_at=utcnow() - timedelta(days=31)))
        db.session.commit()
    purged = runner.invoke(args=["jobs", "purge"])

    assert listed.exit_code == 0, listed.output
    assert "python dbmanager.py orders expire (*/5 * * * *)" not in listed.output
    assert "  orders.expire    */5 * * * *  python dbmanager.py orders expire" in listed.output
    assert "1 failed (python dbmanager.py jobs retry ID, or the back office)." in listed.output
    assert f"The confirmation e-mail of order {number}  (1 attempt(s)): Connection" in listed.output
    assert missing.exit_code == 2
    assert retried.output == "Queued 1 of 1 failed job(s) again.\n"
    assert len(outbox) == 1
    assert purged.output == "Forgot 1 e-mail key(s) older than 30 days (JOBS_SENT_MAIL_DAYS).\n"
    with app.app_context():
        assert db.session.scalars(select(SentMail.key)).all() == [
            f"order:{order_id(app, number)}:confirmation"
        ]


@pytest.mark.mariadb
@pytest.mark.concurrency
def test_eight_admins_retrying_one_failed_job_at_once_run_it_once(pooled_app, tea_on):
    mailman = pooled_app.extensions["mailman"]
    with pooled_app.app_context():
        db.session.add(
            FailedJob(
                name=emails.ORDER_MAIL,
                summary="The confirmation",
                arguments=json.dumps(
                    [emails.CONFIRMATION, order_id(pooled_app, place_on(pooled_app, tea_on))]
                ),
                error="ConnectionRefusedError",
                attempts=7,
            )
        )
        db.session.commit()
        failed_id = db.session.scalar(select(FailedJob.id))
    mailman.outbox = []

    def run(_i):
        with pooled_app.app_context():
            return retry_failed([failed_id])

    results = run_together(8, run)

    assert sorted(results) == [0] * 7 + [1]
    assert len(mailman.outbox) == 1
    assert failed_rows(pooled_app) == []


def place_on(app, tea_on) -> str:
    """An order whose confirmation is sent, then forgotten (as if it had failed)."""
    number = place(app, tea_on["user"], (tea_on["tea"], 1))
    with app.app_context():
        db.session.execute(delete(SentMail))
        db.session.commit()
    return number


# The timetable: expiry, purges.


def test_the_timetable_is_the_workers_schedule(app):
    celery = app.extensions["celery"]

    schedule = celery.conf.beat_schedule
    assert set(schedule) == {"orders.expire", "cart.purge", "jobs.purge"}
    assert all(entry["task"] in celery.tasks for entry in schedule.values())
    assert str(schedule["orders.expire"]["schedule"]) == "<crontab: */5 * * * * (m/h/dM/MY/d)>"
    assert celery.conf.beat_scheduler == "redbeat.RedBeatScheduler"
    assert celery.conf.timezone == app.config["SHOP_TIMEZONE"]


def test_the_expiry_job_cancels_an_unpaid_order_past_its_time(app, tea, user_factory):
    number = place(app, user_factory(), (tea, 1), method="manual", details={})
    with app.app_context():
        db.session.execute(update(Order).values(created_at=utcnow() - timedelta(days=4)))
        db.session.commit()
        done = app.extensions["celery"].tasks["orders.expire"].delay()
        status = db.session.scalar(select(Order.status).where(Order.number == number))

    assert done.result == "Cancelled 1 unpaid order(s), marked 0 paid, sent 0 pending refund(s)."
    assert status == OrderStatus.CANCELLED
