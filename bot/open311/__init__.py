"""The Open311 GeoReport v2 API for the city's systems: the HTTP app (api), its documents in
JSON and XML (formats), reading requests (inputs), and `yishi api` / `yishi apikey` (cli)."""

__all__ = ["api", "cli", "formats", "inputs"]
