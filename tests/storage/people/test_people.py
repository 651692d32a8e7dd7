"""Residents always have a name to show, whatever their channel sends."""

import pytest

from storage import people
from storage.db import session_scope
from storage.models import utcnow


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
            s, channel="wecom", external_id="7700123456", name=name, username=username,
            language_code=None, default_language="zh", unnamed=unnamed,
        )  # fmt: skip
        assert resident.name == shown
        again = await people.touch_resident(
            s, channel="wecom", external_id="7700123456", name=None, username=None,
            language_code=None, default_language="zh", unnamed="居民3456",
        )  # fmt: skip
        assert (again.id, again.name) == (resident.id, "居民3456")


async def test_a_person_who_writes_again_is_reachable_again(engine) -> None:
    async with session_scope(engine) as s:
        resident = await people.touch_resident(
            s, channel="telegram", external_id="1001", name="王芳", username=None,
            language_code=None, default_language="zh",
        )  # fmt: skip
        resident.unreachable_at = utcnow()  # they had blocked the bot
        again = await people.touch_resident(
            s, channel="telegram", external_id="1001", name="王芳", username=None,
            language_code=None, default_language="zh",
        )  # fmt: skip
        assert again.unreachable_at is not None  # seen (e.g. named by a secretary), not heard
        await people.heard_from(s, resident=again)
    async with session_scope(engine) as s:
        found = await people.find_resident(s, channel="telegram", external_id="1001")
        assert found is not None and found.unreachable_at is None
