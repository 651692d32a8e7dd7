"""`yishi sandbox`: the bot, the Bot API emulator and its chat page, offline (main), seeded
with demo people, groups and cases (seed, cases, demo_data)."""

__all__ = ["cases", "demo_data", "main", "seed"]
