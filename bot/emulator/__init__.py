"""A local Telegram Bot API emulator for offline tests: see README.md in this folder."""

from .emulator import Emulator
from .server import serve_in_background

__all__ = ["Emulator", "serve_in_background"]
