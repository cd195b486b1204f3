"""Locales: IETF BCP 47 language tags, checked and put in their canonical form by
`langcodes`."""

import langcodes

INVALID_LOCALE = "Invalid IETF BCP 47 language tag"


def valid_locale(value: str) -> str:
    """`value` in canonical form (`fr_ca` is `fr-CA`); a ValueError when it is not a tag of a
    real language (`und` and private-use `x-...` tags carry none)."""
    if not langcodes.tag_is_valid(value):
        raise ValueError(INVALID_LOCALE)
    language = langcodes.Language.get(value).language
    if language is None or len(language) > 3:
        raise ValueError(INVALID_LOCALE)
    return str(langcodes.standardize_tag(value))
