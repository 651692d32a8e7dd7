"""The Open311 GeoReport v2 endpoints, mounted under /open311/v2/ by bot/web.py.

Handlers are thin, as in handlers/: parse and check the parameters, call
storage/open311/georeport.py in one session scope, write the document. Every failure answers in the
spec's error format (`errors/error{code, description}`) and in the format the path asked for.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.config import LANGUAGES, Settings
from bot.open311 import formats as doc
from bot.open311.formats import Open311Error
from bot.open311.inputs import read_form, request_fields
from storage import open311
from storage.columns import MAX_ID
from storage.db import session_scope
from storage.open311 import apikeys

logger = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]
WINDOW = timedelta(days=90)
PAGE_SIZE, PAGE_SIZE_MAX = 100, 1000


def _format(request: Request) -> str:
    """The format the path ends with; an unknown one is a 404, answered in XML."""
    fmt: str = request.path_params["fmt"]
    if fmt not in doc.FORMATS:
        raise Open311Error(404, "unknown format: use .json or .xml")
    return fmt


def _lang(request: Request, settings: Settings) -> str:
    lang = request.query_params.get("lang", settings.default_language)
    return lang if lang in LANGUAGES else settings.default_language


def _engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def discovery(request: Request) -> Response:
    fmt = _format(request)
    base = str(request.url).split("?")[0].rsplit("/", 1)[0]
    return doc.respond(fmt, "discovery", doc.discovery(base))


async def services(request: Request) -> Response:
    fmt = _format(request)
    lang = _lang(request, _settings(request))
    async with session_scope(_engine(request)) as session:
        items = await open311.services(session)
    return doc.respond(fmt, "services", [doc.service(item, lang) for item in items])


async def service_definition(request: Request) -> Response:
    code, fmt = request.path_params["code"], _format(request)
    async with session_scope(_engine(request)) as session:
        item = await open311.service(session, code)
    if item is None:
        raise Open311Error(404, f"no service {code!r}")
    return doc.respond(fmt, "service_definition", doc.definition(item))


def _when(text: str, settings: Settings, name: str) -> datetime:
    try:
        # an unencoded "+" in the offset arrives as a space: take it as meant
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise Open311Error(400, f"{name}: not a W3C date such as 2026-11-01T00:00:00Z") from None
    return moment.replace(tzinfo=settings.tz) if moment.tzinfo is None else moment


def _number(text: str | None, name: str, default: int, maximum: int) -> int:
    if text is None or text == "":
        return default
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise Open311Error(400, f"{name}: a whole number from 1 to {maximum}")
    return int(text)


def _query(request: Request, settings: Settings, now: datetime) -> open311.Query:
    params = request.query_params
    page = _number(params.get("page"), "page", 1, 100_000)
    size = _number(params.get("page_size"), "page_size", PAGE_SIZE, PAGE_SIZE_MAX)
    start_text, end_text = params.get("start_date"), params.get("end_date")
    start = _when(start_text, settings, "start_date") if start_text else None
    end = _when(end_text, settings, "end_date") if end_text else None
    if start is None:  # the spec's default: the most recent 90 days
        end = end or now
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > WINDOW:
        raise Open311Error(400, "start_date and end_date may be at most 90 days apart")
    ids = tuple(x.strip() for x in params.get("service_request_id", "").split(",") if x.strip())
    if any(not x.isdigit() or int(x) > MAX_ID for x in ids) or len(ids) > PAGE_SIZE_MAX:
        raise Open311Error(400, f"service_request_id: up to {PAGE_SIZE_MAX} request numbers")
    statuses = frozenset(x.strip() for x in params.get("status", "").split(",") if x.strip())
    if not statuses <= {open311.OPEN, open311.CLOSED}:
        raise Open311Error(400, "status: open, closed or both")
    codes = tuple(x.strip() for x in params.get("service_code", "").split(",") if x.strip())
    return open311.Query(
        start=start,
        end=end,
        ids=tuple(int(x) for x in ids),
        codes=codes,
        statuses=statuses,
        page=page,
        page_size=size,
    )


async def list_requests(request: Request) -> Response:
    fmt = _format(request)
    settings = _settings(request)
    query = _query(request, settings, datetime.now(settings.tz))
    async with session_scope(_engine(request)) as session:
        items = await open311.find_requests(session, query)
    lang = _lang(request, settings)
    return doc.respond(fmt, "service_requests", [doc.request(i, lang, settings.tz) for i in items])


async def one_request(request: Request) -> Response:
    number, fmt = request.path_params["number"], _format(request)
    settings = _settings(request)
    item = None
    if number.isdigit():
        async with session_scope(_engine(request)) as session:
            item = await open311.get_request(session, int(number))
    if item is None:
        raise Open311Error(404, f"no service request {number!r}")
    lang = _lang(request, settings)
    return doc.respond(fmt, "service_requests", [doc.request(item, lang, settings.tz)])


async def file_request(request: Request) -> Response:
    """POST requests: a key, then the fields; the case is filed in the same transaction."""
    fmt = _format(request)
    settings = _settings(request)
    form = await read_form(request)
    key = form.get("api_key") or request.query_params.get("api_key")
    async with session_scope(_engine(request)) as session:
        used = await apikeys.use_key(session, key=key)
        if used is None:
            raise Open311Error(403, "api_key is missing, unknown or revoked")
        api_key, number = used
        fields = request_fields(form)
        item = await open311.service(session, fields.service_code)
        if item is None:
            raise Open311Error(404, f"no service {fields.service_code!r}")
        case = await open311.file_request(
            session,
            key=api_key,
            number=number,
            category=item.category,
            text=fields.text,
            latitude=fields.latitude,
            longitude=fields.longitude,
            address=fields.address,
            anonymous=fields.anonymous,
            building=fields.building,
            contact=fields.contact,
            today=datetime.now(settings.tz).date(),
        )
    assert case.id is not None
    logger.info("open311 key %s filed case %s", api_key.id, case.id)
    return doc.respond(fmt, "service_requests", [doc.filed(case.id)], status=201)


def _endpoint(handler: Handler) -> Handler:
    """Answer every failure in the spec's error format; nothing else reaches the client."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Open311Error as failure:
            return doc.error(_error_format(request), failure.status, failure.description)
        except Exception:
            logger.exception("open311: %s %s failed", request.method, request.url.path)
            return doc.error(_error_format(request), 500, "internal error")

    return wrapped


def _error_format(request: Request) -> str:
    return "json" if request.url.path.endswith(".json") else "xml"


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return doc.error(_error_format(request), exc.status_code, exc.detail)


async def requests_endpoint(request: Request) -> Response:
    return await (file_request if request.method == "POST" else list_requests)(request)


def open311_app(settings: Settings, engine: AsyncEngine) -> Starlette:
    """The GeoReport v2 endpoints, to mount at /open311/v2."""
    routes = [
        Route("/discovery.{fmt}", _endpoint(discovery)),
        Route("/services.{fmt}", _endpoint(services)),
        Route("/services/{code}.{fmt}", _endpoint(service_definition)),
        Route("/requests.{fmt}", _endpoint(requests_endpoint), methods=["GET", "POST"]),
        Route("/requests/{number}.{fmt}", _endpoint(one_request)),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.settings, app.state.engine = settings, engine
    return app
