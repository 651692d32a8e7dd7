"""Every table module, so SQLModel.metadata (Alembic, the tests' TRUNCATE) holds every table.

The table modules import only storage.columns, never each other; this is the one place that
gathers them. The package imports it (storage/__init__.py), so importing any storage module
registers them all, as `import storage.models` did when models.py imported the others.
"""

from __future__ import annotations

import storage.access_tokens  # noqa: F401
import storage.deliberation.meeting_models  # noqa: F401
import storage.figures.stats_models  # noqa: F401
import storage.media  # noqa: F401
import storage.models  # noqa: F401
import storage.open311.apikey_models  # noqa: F401
import storage.whistle.models  # noqa: F401
