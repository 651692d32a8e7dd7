"""An emulator of WeCom's server-side APIs (see README.md)."""

from .emulator import WeComEmulator, serve_in_background

__all__ = ["WeComEmulator", "serve_in_background"]
