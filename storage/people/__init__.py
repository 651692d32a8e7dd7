"""Who is in the house: residents and their identities on each channel (linked by one-time
codes), their groups, profiles, roles and invitations, the units they serve in, and what a
person is asked to type next.

Others import its modules (`from storage.people import ...`); the names of
storage/people/residents.py are also the package's own, so `people.<name>` reads as before.
"""

from storage.people import (
    identities,
    invitations,
    links,
    pending,
    profiles,
    residents,
    roles,
    units,
)
from storage.people.identities import find_resident
from storage.people.residents import (
    LANGUAGES,
    NAME_LENGTH,
    clean_name,
    get_resident,
    heard_from,
    language_from_code,
    set_language,
    stand_in_number,
    touch_group,
    touch_resident,
)

__all__ = [
    "identities",
    "invitations",
    "links",
    "pending",
    "profiles",
    "residents",
    "roles",
    "units",
    "LANGUAGES",
    "NAME_LENGTH",
    "language_from_code",
    "clean_name",
    "stand_in_number",
    "touch_resident",
    "find_resident",
    "get_resident",
    "heard_from",
    "set_language",
    "touch_group",
]
