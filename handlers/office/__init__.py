"""The office's own commands: /start, /help and the language (start), roles and invitations
(admin), profiles, subscriptions and group registration (profile), /stats (stats), /export and
its spreadsheets (export, export_files, export_sheets), and the office's notices (digests, the
monthly report, delivery failures: notices).

Others use: the route table its entry points, the notice registry `notices`, the web export
`export_files`.
"""

__all__ = [
    "admin",
    "export",
    "export_files",
    "notices",
    "profile",
    "start",
    "stats",
]
