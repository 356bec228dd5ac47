"""Countries a shop can ship to: the ISO 3166-1 alpha-2 codes (pycountry's copy of the ISO
list), named from Babel's CLDR data, in English or in a visitor's language. The one list the
checkout form, the order service and the API schema use.

Babel's territories alone are not a country list: they hold ZZ (Unknown Region), EU, UN, EZ,
QO, the pseudo-locales XA/XB and user-assigned codes such as XK.
"""

import unicodedata
from functools import cache

import pycountry
from babel import Locale


def _sort_key(pair: tuple[str, str]) -> str:
    """Names sorted as a reader expects: "Åland Islands" beside "Albania", not after "Zimbabwe"."""
    decomposed = unicodedata.normalize("NFKD", pair[1])
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@cache
def countries(locale: str = "en") -> tuple[tuple[str, str], ...]:
    """(code, name in ``locale``) for every ISO 3166-1 country, sorted by name."""
    names = Locale.parse(locale).territories
    return tuple(
        sorted(
            ((c.alpha_2, names.get(c.alpha_2, c.name)) for c in pycountry.countries),
            key=_sort_key,
        )
    )


@cache
def country_codes() -> tuple[str, ...]:
    """The ISO 3166-1 alpha-2 codes, sorted: ``("AD", "AE", ..., "ZW")``."""
    return tuple(sorted(code for code, _name in countries()))


def country_name(code: str, locale: str = "en") -> str:
    """``country_name("DE")`` -> ``"Germany"`` (``"Deutschland"`` in ``de_DE``); a code that is
    no country comes back as it is."""
    return _names(locale).get(code, code)


@cache
def _names(locale: str) -> dict[str, str]:
    return dict(countries(locale))
