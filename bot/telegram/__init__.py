"""The Telegram channel, the only package that imports python-telegram-bot: the Application
(app: polling or webhook, the flood limiter, per-chat ordering, unreadable updates skipped),
the adapter between PTB updates and the neutral conversations (adapter), the outbox sender
(sender), the error handler (errors), Telegram's limits (limits), the runner (`yishi run`)
and the Bot API emulator beside it (emulator), and sending photos kept as media records (media).
"""

CHANNEL = "telegram"  # how storage names this channel (residents, groups, media)

__all__ = [
    "adapter",
    "app",
    "errors",
    "limits",
    "media",
    "runner",
    "sender",
    "webhook",
]
