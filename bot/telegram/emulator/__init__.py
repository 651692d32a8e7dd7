"""A local Telegram Bot API emulator for offline tests: see README.md in this folder."""

from .balancer import RoundRobin
from .emulator import Emulator
from .server import serve_app_in_background, serve_in_background

__all__ = ["Emulator", "RoundRobin", "serve_app_in_background", "serve_in_background"]
