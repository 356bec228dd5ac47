"""The address book's services (app/addresses/services.py): a customer's addresses, checked as
checkout checks them, one default for shipping and one for billing, nobody else's."""

import pytest
from sqlalchemy import func, select

from app.addresses import services
from app.addresses.models import SavedAddress
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from tests.factories import UserFactory, create
from tests.helpers import ADDRESS, run_together

HOME = {**ADDRESS, "name": "Ada at home"}
WORK = {**ADDRESS, "name": "Ada at work", "line1": "2 Engine Row", "country": "fr"}


def book(app, user_id) -> list[tuple[str, bool, bool]]:
    with app.app_context():
        return [
            (a.name, a.is_default_shipping, a.is_default_billing)
            for a in services.list_addresses(user_id)
        ]


def test_the_first_address_is_the_default_for_both_later_ones_are_not(app, user_factory):
    ada = user_factory()
    with app.app_context():
        services.save_address(ada, None, HOME)
        services.save_address(ada, None, WORK)

    assert book(app, ada) == [("Ada at home", True, True), ("Ada at work", False, False)]


def test_a_new_default_replaces_the_old_one_of_its_kind_only(app, user_factory):
    ada = user_factory()
    with app.app_context():
        services.save_address(ada, None, HOME)
        work = services.save_address(ada, None, {**WORK, "default_billing": True}).id
        assert services.default_address(ada, "default_billing").id == work
        assert services.default_address(ada).name == "Ada at home"
        services.save_address(ada, work, {"default_shipping": True, "default_billing": False})

    assert book(app, ada) == [("Ada at work", True, False), ("Ada at home", False, False)]


def test_addresses_are_checked_as_checkout_checks_them(app, user_factory):
    ada = user_factory()
    with app.app_context():
        with pytest.raises(ValidationFailed) as refused:
            services.save_address(ada, None, {**HOME, "country": "XX", "city": " ", "line1": 5})
        saved = services.save_address(ada, None, WORK)
        assert (saved.country, saved.line2) == ("FR", "")
        with pytest.raises(ValidationFailed) as bad_flag:
            services.save_address(ada, saved.id, {"default_shipping": "yes"})

    assert set(refused.value.fields) == {"country", "city", "line1"}
    assert refused.value.message == "Check the address."
    assert set(bad_flag.value.fields) == {"default_shipping"}


def test_a_change_keeps_the_fields_it_does_not_name(app, user_factory):
    ada = user_factory()
    with app.app_context():
        address = services.save_address(ada, None, HOME)
        services.save_address(ada, address.id, {"city": "Paris"})
        changed = services.get_address(ada, address.id)

        assert (changed.name, changed.line1, changed.city) == (HOME["name"], HOME["line1"], "Paris")


def test_another_customers_address_does_not_exist(app, user_factory):
    ada = user_factory()
    eve = user_factory(email="eve@example.com")
    with app.app_context():
        address = services.save_address(ada, None, HOME).id
        for attempt in (
            lambda: services.get_address(eve, address),
            lambda: services.save_address(eve, address, {"city": "Nowhere"}),
            lambda: services.delete_address(eve, address),
            lambda: services.get_address(ada, 10_000),
        ):
            with pytest.raises(NotFound):
                attempt()

    assert book(app, ada) == [("Ada at home", True, True)]
    assert book(app, eve) == []


@pytest.mark.parametrize("address_id", [0, -1, 2**63, 10**23])
def test_an_id_no_row_can_have_does_not_exist(app, user_factory, address_id):
    """Ids outside the database's integers are 404 too (SQLite cannot even bind them)."""
    ada = user_factory()
    with app.app_context():
        for attempt in (
            lambda: services.get_address(ada, address_id),
            lambda: services.save_address(ada, address_id, {"city": "Nowhere"}),
            lambda: services.delete_address(ada, address_id),
        ):
            with pytest.raises(NotFound):
                attempt()


def test_the_book_has_a_limit(app, user_factory):
    app.config["ADDRESS_BOOK_MAX"] = 2
    ada = user_factory()
    with app.app_context():
        services.save_address(ada, None, HOME)
        services.save_address(ada, None, WORK)
        with pytest.raises(ValidationFailed, match="full"):
            services.save_address(ada, None, HOME)

    assert len(book(app, ada)) == 2


def test_deleting_a_customer_deletes_their_addresses(app, user_factory):
    ada = user_factory()
    with app.app_context():
        services.save_address(ada, None, HOME)
        services.delete_address(ada, services.save_address(ada, None, WORK).id)
        assert book(app, ada) == [("Ada at home", True, True)]
        db.session.delete(db.session.get(UserFactory._meta.model, ada))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(SavedAddress)) == 0


@pytest.mark.concurrency
def test_concurrent_changes_keep_one_default_and_the_limit(threaded_app):
    """Threads adding addresses and making them the default at once: the limit holds and one
    address stays the default of each kind."""
    threaded_app.config["ADDRESS_BOOK_MAX"] = 5
    ada = create(threaded_app, UserFactory)

    def add(i):
        with threaded_app.app_context():
            flags = {"default_shipping": True, "default_billing": i % 2 == 0}
            return services.save_address(ada, None, {**HOME, "name": f"Ada {i}", **flags}).id

    results = run_together(12, add)

    saved = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert (len(saved), len(refused)) == (5, 7), results
    addresses = book(threaded_app, ada)
    assert len(addresses) == 5
    assert sum(shipping for _, shipping, _ in addresses) == 1
    assert sum(billing for _, _, billing in addresses) == 1
