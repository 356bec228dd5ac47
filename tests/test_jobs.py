"""Background jobs (app/jobs/): queued by the unit that commits what they tell, run inline by
default (JOBS_EAGER), and an e-mail job sends once however many times it runs."""

import pytest
from sqlalchemy import select

from app.accounts.mail import send_security_mail
from app.extensions import db
from app.jobs.models import SentMail
from app.orders import emails
from app.orders.models import Order
from app.transactions import atomic
from tests.factories import ProductFactory, create, place
from tests.helpers import csrf_token, run_together


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
