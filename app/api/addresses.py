"""API: the caller's address book (app.addresses.services' rules: at most ADDRESS_BOOK_MAX
addresses, one default for shipping and one for billing, nobody else's)."""

import marshmallow as ma
from flask_security import current_user

from app.addresses import services
from app.api.common import api_auth_required
from app.api.schemas import AddressSchema, JsonBoolean
from app.api.spec import AUTHENTICATED, Blueprint, error_responses, link, links
from app.countries import countries
from app.i18n import current_locale

bp = Blueprint("addresses", __name__, description="Address book")

ADDRESS_PATH = "/addresses/{address_id}"
NEW_ADDRESS = "$response.body#/id"
FULL_BOOK = (
    "Also for a valid body when the book already holds ADDRESS_BOOK_MAX addresses "
    "(20 by default; the error names _schema)."
)


def default_flag(kind: str) -> JsonBoolean:
    return JsonBoolean(
        metadata={
            "description": f"true: the default {kind} address (the previous one stops being "
            f"it); false: not the default. A customer's first address is the default for both."
        }
    )


class AddressRequest(AddressSchema):
    default_shipping = default_flag("shipping")
    default_billing = default_flag("billing")


class AddressChangeRequest(AddressRequest):
    """The fields to change (loaded with ``partial=True``: none is required)."""


class SavedAddressSchema(AddressSchema):
    id = ma.fields.Integer(required=True)
    line2 = ma.fields.String(required=True, metadata={"description": "Or empty."})
    default_shipping = ma.fields.Boolean(required=True, attribute="is_default_shipping")
    default_billing = ma.fields.Boolean(required=True, attribute="is_default_billing")


class CountrySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "DE"})
    name = ma.fields.String(required=True, metadata={"example": "Germany"})


@bp.get("/countries")
@bp.response(200, CountrySchema(many=True))
def list_countries():
    """The countries an address may name: ISO 3166-1 codes with their names in the language
    of Accept-Language, sorted by name (the HTML checkout's list)."""
    return [{"code": code, "name": name} for code, name in countries(current_locale())]


@bp.get("/addresses")
@api_auth_required
@bp.response(200, SavedAddressSchema(many=True))
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 401)
def list_addresses():
    """The caller's addresses: the defaults first, then the newest."""
    return services.list_addresses(current_user.id)


@bp.post("/addresses")
@api_auth_required
@bp.arguments(AddressRequest)
@bp.response(201, SavedAddressSchema)
@bp.doc(
    security=AUTHENTICATED,
    **links(
        201,
        GetAddress=link("GET", ADDRESS_PATH, "Read the new address.", address_id=NEW_ADDRESS),
        ChangeAddress=link(
            "PATCH", ADDRESS_PATH, "Change the new address.", address_id=NEW_ADDRESS
        ),
        DeleteAddress=link(
            "DELETE", ADDRESS_PATH, "Delete the new address.", address_id=NEW_ADDRESS
        ),
    ),
)
@error_responses(bp, 400, 401, rules={422: FULL_BOOK})
def add_address(body):
    """Add an address to the caller's book."""
    return services.save_address(current_user.id, None, body)


@bp.get("/addresses/<int:address_id>")
@api_auth_required
@bp.response(200, SavedAddressSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 401, 404)
def get_address(address_id):
    """One of the caller's addresses; anybody else's is 404."""
    return services.get_address(current_user.id, address_id)


@bp.patch("/addresses/<int:address_id>")
@api_auth_required
@bp.arguments(AddressChangeRequest(partial=True))
@bp.response(200, SavedAddressSchema)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 400, 401, 404, 422)
def change_address(body, address_id):
    """Change the fields given of one of the caller's addresses; the others stay."""
    return services.save_address(current_user.id, address_id, body)


@bp.delete("/addresses/<int:address_id>")
@api_auth_required
@bp.response(204)
@bp.doc(security=AUTHENTICATED)
@error_responses(bp, 400, 401, 404)
def delete_address(address_id):
    """Delete one of the caller's addresses; orders placed with it keep their copy."""
    services.delete_address(current_user.id, address_id)
