"""Each capability package names what others may use (`__all__` in its __init__), and every
name there is real: a module of the package, or a name it defines."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bot
import handlers
import storage

PACKAGES = sorted(
    info.name
    for root in (storage, handlers, bot)
    for info in pkgutil.walk_packages(root.__path__, root.__name__ + ".")
    if info.ispkg
    and ".emulator" not in info.name
    and not info.name.endswith(".migrations")
    and not info.name.endswith(".versions")
)


def test_the_capability_packages_are_all_found() -> None:
    for expected in ("storage.cases", "handlers.cases", "handlers.words", "bot.telegram"):
        assert expected in PACKAGES


@pytest.mark.parametrize("name", PACKAGES)
def test_a_package_names_what_others_may_use(name: str) -> None:
    package = importlib.import_module(name)
    exported = getattr(package, "__all__", None)
    assert exported, f"{name}/__init__.py has no __all__"
    for item in exported:
        if not hasattr(package, item):
            importlib.import_module(f"{name}.{item}")  # a module of the package
