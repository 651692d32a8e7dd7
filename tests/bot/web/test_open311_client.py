"""An independent Open311 client from PyPI (civicbot's GeoReport v2 client, stdlib HTTP) lists
the services, files a request and reads it back from `yishi api` served on loopback."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from civicbot.http import HttpTransport, RateLimiter
from civicbot.open311 import Open311Client
from civicbot.registry import Endpoint

from bot.config import Settings
from bot.web import OPEN311_PREFIX, build_web_app
from storage.db import create_engine

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    """The web app under uvicorn on a loopback port, in its own thread and event loop."""
    port = _free_port()
    ready = threading.Event()
    servers: list[uvicorn.Server] = []

    async def serve() -> None:
        engine = create_engine(settings.database_url)  # this loop's own connections
        config = uvicorn.Config(
            build_web_app(settings, engine),
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        server = uvicorn.Server(config)
        servers.append(server)
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        ready.set()
        await task
        await engine.dispose()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(20), "uvicorn did not start"
    yield f"http://127.0.0.1:{port}{OPEN311_PREFIX}"
    servers[0].should_exit = True
    thread.join(20)


def _client(url: str) -> Open311Client:
    endpoint = Endpoint(id="yishi", name="Yishi", base_url=url, write=True)
    transport = HttpTransport(timeout=10, rate_limiter=RateLimiter(min_interval=0))
    return Open311Client(endpoint, transport=transport)


async def test_a_civic_client_lists_files_and_reads_back(live_url: str, api_key: str) -> None:
    client = _client(live_url)

    def conversation() -> tuple[list[dict], dict, dict, list[dict]]:
        services = client.list_services()
        prepared = client.create_request(
            "environment",
            dry_run=False,
            confirm="SEND",
            api_key=api_key,
            validate_remote=True,  # the client checks the form against our definition
            address_string="5号楼东侧垃圾站",
            description="垃圾站三天没有清运，气味很大",
            attributes={"anonymous": "true", "building": "5"},
            first_name="Li",
            phone="13700001234",
        )
        [filed] = prepared.response
        number = filed["service_request_id"]
        one = client.get_request(number)
        assert one is not None
        listed = client.list_requests(service_request_ids=[number])
        return services, filed, one, listed

    services, filed, one, listed = await asyncio.to_thread(conversation)
    assert "environment" in {s["service_code"] for s in services}
    assert one["service_request_id"] == filed["service_request_id"]
    assert one["status"] == "open" and one["service_code"] == "environment"
    assert one["description"] == "垃圾站三天没有清运，气味很大"
    assert one["address"] == "5号楼东侧垃圾站"
    assert listed == [one]
    assert "13700001234" not in str(one) and "Li" not in one.values()
