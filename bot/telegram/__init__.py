"""The Telegram channel."""

CHANNEL = "telegram"  # how storage names this channel (residents, groups, media)
