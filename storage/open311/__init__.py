"""Open311 GeoReport v2: cases as the public API sees them, and the API keys that file them.

Others import its modules (`from storage.open311 import ...`); the names of
storage/open311/georeport.py are also the package's own, so `open311.<name>` reads as before.
"""

from storage.open311 import apikey_models, apikeys, georeport
from storage.open311.georeport import (
    CLOSED,
    CLOSED_STATUSES,
    OPEN,
    SOURCE,
    Query,
    Request,
    Service,
    file_request,
    find_requests,
    get_request,
    public_status,
    service,
    services,
)

__all__ = [
    "OPEN",
    "CLOSED",
    "apikey_models",
    "apikeys",
    "georeport",
    "SOURCE",
    "CLOSED_STATUSES",
    "public_status",
    "Service",
    "Request",
    "Query",
    "services",
    "service",
    "find_requests",
    "get_request",
    "file_request",
]
