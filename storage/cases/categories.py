"""Case categories and their seeding from storage/defaults.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Category

DEFAULTS = Path(__file__).parents[1] / "defaults.toml"
FALLBACK_CODE = "other"


def load_defaults() -> dict[str, Any]:
    with DEFAULTS.open("rb") as fh:
        return tomllib.load(fh)


async def seed_categories(session: AsyncSession) -> int:
    """Add the default categories that are missing; returns how many were added."""
    existing = set((await session.exec(select(Category.code))).all())
    added = 0
    for position, item in enumerate(load_defaults()["category"]):
        if item["code"] in existing:
            continue
        session.add(
            Category(code=item["code"], name_zh=item["zh"], name_en=item["en"], position=position)
        )
        added += 1
    await session.flush()
    return added


async def active_categories(session: AsyncSession) -> list[Category]:
    query = select(Category).where(col(Category.active)).order_by(col(Category.position))
    return list((await session.exec(query)).all())


async def get_category(session: AsyncSession, category_id: int) -> Category | None:
    return await session.get(Category, category_id)


async def find_category(session: AsyncSession, *, code: str) -> Category | None:
    """The category with this code, active or not; None if there is none."""
    return (await session.exec(select(Category).where(Category.code == code))).first()


async def category_codes(session: AsyncSession) -> list[str]:
    """Every category's code, active or not, in the office's order."""
    return list((await session.exec(select(Category.code).order_by(col(Category.position)))).all())


async def category_by_code(session: AsyncSession, code: str) -> Category:
    category = await find_category(session, code=code)
    if category is None:
        raise LookupError(f"category {code!r} is missing: run `yishi seed`")
    return category
