"""Countries by ISO 3166 alpha-2 code, named from Babel's CLDR data."""

from babel import Locale


def country_name(code: str) -> str:
    """``country_name("DE")`` -> ``"Germany"``; a code CLDR does not know comes back as it is."""
    return Locale("en").territories.get(code, code)
