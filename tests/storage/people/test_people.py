"""Residents always have a name to show, whatever their channel sends."""

import pytest

from storage import people
from storage.db import session_scope


@pytest.mark.parametrize(
    ("name", "username", "unnamed", "shown"),
    [
        (None, None, "居民3456", "居民3456"),
        (None, None, "", "3456"),
        ("", "lao_wang", "居民3456", "lao_wang"),
        ("  \u3164\u200b ", None, "Resident 3456", "Resident 3456"),
        ("  王   芳 ", None, "居民3456", "王 芳"),
        ("A" * 300, None, "", "A" * 200),
    ],
)
async def test_a_name_or_a_stand_in(engine, name, username, unnamed, shown) -> None:
    async with session_scope(engine) as s:
        resident = await people.touch_resident(
            s, channel="wecom", external_id=7700123456, name=name, username=username,
            language_code=None, default_language="zh", unnamed=unnamed,
        )  # fmt: skip
        assert resident.name == shown
        again = await people.touch_resident(
            s, channel="wecom", external_id=7700123456, name=None, username=None,
            language_code=None, default_language="zh", unnamed="居民3456",
        )  # fmt: skip
        assert (again.id, again.name) == (resident.id, "居民3456")
