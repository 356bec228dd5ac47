"""The back office at /admin/ (Flask-Admin), for users with the ``admin`` role."""

from flask import Flask
from flask_admin import Admin
from flask_admin.menu import MenuLink
from flask_admin.theme import Bootstrap4Theme

from app.accounts.models import User
from app.admin.jobs import FailedJobView
from app.admin.sales import SaleView
from app.admin.views import (
    CategoryView,
    DashboardView,
    OptionTypeView,
    OrderView,
    ProductView,
    ShippingMethodView,
    ShippingZoneView,
    TaxClassView,
    TaxRateView,
    UserView,
    VariantView,
    WeightBandView,
    upload_body_limit,
)
from app.admin.vouchers import VoucherView
from app.catalog.models import Category, OptionType, Product, Variant
from app.extensions import db
from app.jobs.models import FailedJob
from app.orders.models import Order
from app.sales.models import Sale
from app.shipping.models import ShippingMethod, ShippingZone, WeightBand
from app.taxes.models import TaxClass, TaxRate
from app.vouchers.models import Voucher


def init_app(app: Flask) -> None:
    """Mount the back office on ``app``; call it after Talisman, whose nonce the scripts carry.

    One Admin per app rather than one in extensions.py: Flask-Admin views keep the app and
    blueprint they were registered with, so two apps (as the tests make) cannot share them.
    """
    admin = Admin(
        name=f"{app.config['SITE_NAME']} admin",
        index_view=DashboardView(name="Dashboard"),
        theme=Bootstrap4Theme(base_template="admin/storefront_base.html"),
        csp_nonce_generator=app.jinja_env.globals["csp_nonce"],
    )
    admin.add_views(
        ProductView(Product, db, name="Products", endpoint="admin_products", url="products"),
        OptionTypeView(OptionType, db, name="Options", endpoint="admin_options", url="options"),
        VariantView(Variant, db, name="Variants", endpoint="admin_variants", url="variants"),
        CategoryView(
            Category, db, name="Categories", endpoint="admin_categories", url="categories"
        ),
        OrderView(Order, db, name="Orders", endpoint="admin_orders", url="orders"),
        VoucherView(Voucher, db, name="Vouchers", endpoint="admin_vouchers", url="vouchers"),
        SaleView(Sale, db, name="Sales", endpoint="admin_sales", url="sales"),
        ShippingZoneView(
            ShippingZone,
            db,
            name="Zones",
            category="Shipping",
            endpoint="admin_shipping_zones",
            url="shipping-zones",
        ),
        ShippingMethodView(
            ShippingMethod,
            db,
            name="Methods",
            category="Shipping",
            endpoint="admin_shipping_methods",
            url="shipping-methods",
        ),
        WeightBandView(
            WeightBand,
            db,
            name="Weight bands",
            category="Shipping",
            endpoint="admin_weight_bands",
            url="weight-bands",
        ),
        TaxRateView(
            TaxRate, db, name="Rates", category="Tax", endpoint="admin_tax_rates", url="tax-rates"
        ),
        TaxClassView(
            TaxClass,
            db,
            name="Classes",
            category="Tax",
            endpoint="admin_tax_classes",
            url="tax-classes",
        ),
        UserView(User, db, name="Users", endpoint="admin_users", url="users"),
        FailedJobView(
            FailedJob, db, name="Failed jobs", endpoint="admin_failed_jobs", url="failed-jobs"
        ),
    )
    admin.add_link(MenuLink(name="Back to the shop", endpoint="pages.home"))
    admin.init_app(app)
    # The upload form takes several images in one request (Storefront.preprocess_request).
    body_limits = app.extensions.setdefault("body_limits", {})
    body_limits["admin_products.gallery_upload_view"] = upload_body_limit
