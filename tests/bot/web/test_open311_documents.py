"""Every Open311 response, JSON and XML, holds to the spec's field lists (tests/bot/web/spec.py)."""

from __future__ import annotations

import httpx
import pytest

from tests.bot.web.conftest import report
from tests.bot.web.spec import check_response

FORMATS = ["json", "xml"]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_discovery_and_services_hold_to_the_spec(client: httpx.AsyncClient, fmt: str) -> None:
    answer = await client.get(f"/discovery.{fmt}")
    assert answer.status_code == 200
    discovery = check_response(answer.content, fmt, item_kind="discovery")
    assert discovery["endpoints"][0]["url"] == "http://yishi.test/open311/v2"

    answer = await client.get(f"/services.{fmt}")
    assert answer.status_code == 200
    expected_type = "application/json" if fmt == "json" else "text/xml"
    assert answer.headers["content-type"].startswith(expected_type)
    services = check_response(answer.content, fmt, item_kind="service")
    by_code = {s["service_code"]: s for s in services}
    assert {"property", "safety", "labour", "other"} <= set(by_code)
    assert by_code["property"]["service_name"] == "物业服务"
    assert by_code["property"]["group"]  # the unit the route sends it to
    assert "property" in by_code["property"]["keywords"].split(",")

    answer = await client.get(f"/services/property.{fmt}")
    definition = check_response(answer.content, fmt, item_kind="service_definition")
    codes = {a["code"] for a in definition["attributes"]}
    assert codes == {"anonymous", "building"}


@pytest.mark.parametrize("fmt", FORMATS)
async def test_filing_and_reading_requests_hold_to_the_spec(
    client: httpx.AsyncClient, api_key: str, fmt: str
) -> None:
    answer = await client.post(f"/requests.{fmt}", data={**report(), "api_key": api_key})
    assert answer.status_code == 201, answer.text
    [filed] = check_response(answer.content, fmt, item_kind="filed")
    number = filed["service_request_id"]

    answer = await client.get(f"/requests.{fmt}")
    listed = check_response(answer.content, fmt, item_kind="request")
    assert [r["service_request_id"] for r in listed] == [number]

    answer = await client.get(f"/requests/{number}.{fmt}")
    [one] = check_response(answer.content, fmt, item_kind="request")
    assert one["status"] == "open" and one["status_notes"] == "new"
    assert one["service_code"] == "property"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/services/no_such_service", 404),
        ("GET", "/requests/999999", 404),
        ("GET", "/requests/abc", 404),
        ("GET", "/nothing_here", 404),
        ("GET", "/requests?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", 400),
        ("GET", "/requests?status=pending", 400),
        ("GET", "/requests?page_size=5000", 400),
        ("GET", "/requests?start_date=yesterday", 400),
        ("POST", "/requests", 403),
        ("DELETE", "/requests", 405),
    ],
)
async def test_errors_hold_to_the_spec(
    client: httpx.AsyncClient, fmt: str, method: str, path: str, status: int
) -> None:
    base, _, query = path.partition("?")
    url = f"{base}.{fmt}" + (f"?{query}" if query else "")
    data = report() if method == "POST" else None
    answer = await client.request(method, url, data=data)
    assert answer.status_code == status
    [error] = check_response(answer.content, fmt, item_kind="error")
    assert int(error["code"]) == status


async def test_an_unknown_format_is_a_404_in_xml(client: httpx.AsyncClient) -> None:
    answer = await client.get("/services.html")
    assert answer.status_code == 404
    check_response(answer.content, "xml")
