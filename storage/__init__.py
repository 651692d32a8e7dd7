"""The rules and the data. Importing any part of it puts every table on SQLModel.metadata."""

import storage.tables  # noqa: F401
