"""What a crawler's browser reads of a product page: the JSON-LD, under the strict CSP.

Real headless Chromium against the app on a real HTTP server, on SQLite and on MariaDB.
"""

import json

import pytest

from tests.factories import make_tshirt

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WATCH_CSP = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.cspViolations.push(event.violatedDirective + " " + event.blockedURI));
"""


def test_the_product_pages_json_ld_is_read_and_the_csp_refuses_nothing(
    live_app, page, browser_errors
):
    make_tshirt(live_app, stock=3)
    page.add_init_script(WATCH_CSP)

    page.goto("/products/tshirt?utm_source=newsletter")

    blocks = page.locator('script[type="application/ld+json"]').all_text_contents()
    [data] = [json.loads(block) for block in blocks]
    assert data["@type"] == "Product"
    assert data["name"] == "T-shirt"
    assert len(data["offers"]) == 6
    assert {offer["availability"] for offer in data["offers"]} == {"https://schema.org/InStock"}
    canonical = page.locator('link[rel="canonical"]').get_attribute("href")
    assert canonical is not None
    assert canonical.endswith("/products/tshirt")
    assert page.evaluate("window.cspViolations") == []
    assert browser_errors == []
