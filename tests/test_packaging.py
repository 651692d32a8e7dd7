"""The container files: Dockerfile, .dockerignore, compose.yaml and the entrypoint script.

No Docker engine runs here, so the Dockerfile and compose.yaml are read as text; the entrypoint
really runs, against a stand-in `yishi` that records how it was called.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "scripts" / "docker-entrypoint.sh"


def _instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions in order, continuation lines joined, comments dropped."""
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, args = line.strip().partition(" ")
            found.append((keyword.upper(), " ".join(args.split())))
    return found


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in _instructions((ROOT / "Dockerfile").read_text()):
        if keyword == "FROM":
            stages.append([])
        assert stages, "the Dockerfile must start with FROM"
        stages[-1].append((keyword, args))
    return stages


def test_the_image_builds_in_one_stage_and_runs_from_a_clean_slim_one() -> None:
    stages = _stages()
    assert len(stages) >= 2
    for stage in stages:
        assert stage[0][1].split()[0] == "python:3.11-slim"
    final = stages[-1]
    copies = [args for keyword, args in final if keyword == "COPY"]
    assert any(args.startswith("--from=builder /opt/venv ") for args in copies), copies
    # No compiler, no package installs, no project source in the image that runs.
    for keyword, args in final:
        if keyword == "RUN":
            assert not re.search(r"apt-get|apk |gcc|build-essential|pip install", args), args
    assert not any(re.search(r"(^|\s)(bot|storage|tests)(\s|$)", args) for args in copies)


def test_the_bot_runs_as_an_unprivileged_user_in_its_own_workdir() -> None:
    final = _stages()[-1]
    keywords = [keyword for keyword, _ in final]
    users = [args for keyword, args in final if keyword == "USER"]
    assert users, "the final stage must switch user"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    last_user = max(i for i, keyword in enumerate(keywords) if keyword == "USER")
    assert last_user < keywords.index("ENTRYPOINT") and last_user < keywords.index("CMD")
    assert ("WORKDIR", "/app") in final
    workdir = keywords.index("WORKDIR")
    chowns = [args for keyword, args in final[workdir:last_user] if keyword == "RUN"]
    assert any(re.search(r"chown (yishi|10001)\S* /app", args) for args in chowns), chowns


def test_the_image_serves_on_8443_logs_json_and_checks_healthz_with_python() -> None:
    final = _stages()[-1]
    env = " ".join(args for keyword, args in final if keyword == "ENV")
    assert "PYTHONUNBUFFERED=1" in env.split() and "YISHI_LOG_FORMAT=json" in env.split()
    assert ("EXPOSE", "8443") in final
    [check] = [args for keyword, args in final if keyword == "HEALTHCHECK"]
    command = json.loads(check[check.index("CMD ") + 4 :])
    assert command[0] == "python" and "/healthz" in command[-1] and "curl" not in check
    assert "127.0.0.1" in command[-1]
    [entrypoint] = [json.loads(args) for keyword, args in final if keyword == "ENTRYPOINT"]
    assert entrypoint == ["docker-entrypoint.sh"]
    assert any(
        keyword == "COPY"
        and args.endswith("scripts/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh")
        for keyword, args in final
    )
    assert [json.loads(args) for keyword, args in final if keyword == "CMD"] == [["serve"]]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, simplified: the last pattern that matches the path or a parent wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        for candidate in candidates:
            if fnmatch.fnmatchcase(candidate, glob) or (
                glob.startswith("**/") and fnmatch.fnmatchcase(candidate.split("/")[-1], glob[3:])
            ):
                ignored = not negate
    return ignored


def test_dockerignore_sends_the_build_its_inputs_and_nothing_private() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for needed in (
        "pyproject.toml",
        "README.md",
        "bot/cli.py",
        "handlers/words/locales/zh_CN/LC_MESSAGES/yishi.po",
        "storage/migrations/versions/0001_initial_schema.py",
        "storage/defaults.toml",
        "handlers/__init__.py",
        "scheduler/__init__.py",
        "scripts/docker-entrypoint.sh",
    ):
        assert not _ignored(needed, patterns), needed
    for private in (
        ".env",
        ".venv/bin/python",
        ".git/config",
        "tests/conftest.py",
        "yishi.db",
        "sandbox.db-wal",
        "bot/__pycache__/cli.cpython-311.pyc",
        ".mypy_cache/3.11/x.json",
    ):
        assert _ignored(private, patterns), private


# --- the entrypoint ------------------------------------------------------------------------


@pytest.fixture
def fake_yishi(tmp_path: Path) -> Path:
    """A `yishi` on PATH that logs its pid and arguments; `migrate` fails when told to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "yishi"
    script.write_text(
        "#!/bin/sh\n"
        'echo "$$ $*" >> "$YISHI_FAKE_LOG"\n'
        'if [ "$1" = migrate ] && [ -n "${FAIL_MIGRATE:-}" ]; then exit 3; fi\n'
    )
    script.chmod(0o755)
    return tmp_path


def _entrypoint(home: Path, *args: str, **env: str) -> tuple[int, int, list[str]]:
    """Run the entrypoint: (its exit code, its pid, the calls `yishi` saw as "pid args")."""
    log = home / "calls.log"
    log.unlink(missing_ok=True)
    environment = {
        "PATH": f"{home / 'bin'}:/usr/bin:/bin",
        "YISHI_FAKE_LOG": str(log),
        **env,
    }
    process = subprocess.Popen(["/bin/sh", str(ENTRYPOINT), *args], env=environment)
    code = process.wait(timeout=30)
    calls = log.read_text().splitlines() if log.exists() else []
    return code, process.pid, calls


def test_entrypoint_script_is_executable_posix_sh() -> None:
    assert os.access(ENTRYPOINT, os.X_OK)
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True)


def test_serve_migrates_then_becomes_the_webhook_bot(fake_yishi: Path) -> None:
    code, pid, calls = _entrypoint(
        fake_yishi, "serve", YISHI_WEBHOOK_URL="https://bot.example.org/tg/hook"
    )
    assert code == 0
    (migrate_pid, migrate), (run_pid, run) = (call.split(" ", 1) for call in calls)
    assert migrate == "migrate"
    assert shlex.split(run) == [
        "run",
        "--webhook",
        "--url",
        "https://bot.example.org/tg/hook",
        "--listen",
        "0.0.0.0:8443",
    ]
    # exec: the bot is the entrypoint's own process, so docker stop's SIGTERM reaches it;
    # the migration ran as a child and ended before.
    assert int(run_pid) == pid and int(migrate_pid) != pid


def test_without_a_webhook_url_it_polls_and_honours_listen(fake_yishi: Path) -> None:
    code, pid, calls = _entrypoint(fake_yishi, YISHI_LISTEN="0.0.0.0:9000", YISHI_WEBHOOK_URL="")
    assert code == 0
    assert [call.split(" ", 1)[1] for call in calls] == ["migrate", "run --listen 0.0.0.0:9000"]
    assert int(calls[-1].split()[0]) == pid


def test_a_failed_migration_stops_the_start(fake_yishi: Path) -> None:
    code, _, calls = _entrypoint(fake_yishi, "serve", FAIL_MIGRATE="1")
    assert code == 3
    assert [call.split(" ", 1)[1] for call in calls] == ["migrate"]


def test_other_commands_go_to_yishi_as_they_are(fake_yishi: Path) -> None:
    code, pid, calls = _entrypoint(fake_yishi, "report", "--period", "2026-11", "--format", "md")
    assert code == 0
    assert calls == [f"{pid} report --period 2026-11 --format md"]
    code, _, calls = _entrypoint(fake_yishi, "serve", YISHI_MIGRATE_ON_START="0")
    assert [call.split(" ", 1)[1] for call in calls] == ["run --listen 0.0.0.0:8443"]


# --- compose.yaml ------------------------------------------------------------------------


def _scalar(text: str) -> Any:
    if text[:1] in "\"'":
        if len(text) < 2 or text[-1] != text[0]:
            raise ValueError(f"unterminated quote: {text}")
        return text[1:-1].replace('\\"', '"') if text[0] == '"' else text[1:-1]
    if text.startswith("[") or text.startswith("{") or text in ("|", ">"):
        raise ValueError(f"flow and block scalars are beyond this reader: {text}")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return {"true": True, "false": False, "null": None, "~": None}.get(text, text)


def _strip_comment(line: str) -> str:
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def load_simple_yaml(text: str) -> Any:
    """The block-style YAML subset compose.yaml keeps to (PyYAML is not a dependency here).

    Mappings, sequences (of scalars or mappings) and plain or quoted scalars; anything else
    raises, so a construct this reader does not know fails the test instead of passing it.
    """
    if "\t" in text:
        raise ValueError("tabs in YAML indentation")
    lines: list[tuple[int, str]] = []
    for raw in text.splitlines():
        line = _strip_comment(raw)
        if line.strip():
            lines.append((len(line) - len(line.lstrip(" ")), line.strip()))

    def block(i: int, indent: int) -> tuple[Any, int]:
        if lines[i][1].startswith("- ") or lines[i][1] == "-":
            items: list[Any] = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-"):
                rest = lines[i][1][1:].strip()
                if re.match(r"[\w.-]+:(\s|$)", rest):  # "- key: value" opens a mapping
                    lines[i] = (indent + 2, rest)
                    value, i = block(i, indent + 2)
                else:
                    value, i = _scalar(rest), i + 1
                items.append(value)
            return items, i
        mapping: dict[str, Any] = {}
        while i < len(lines) and lines[i][0] == indent:
            match = re.fullmatch(r"([\w.-]+):(?:\s+(.*))?", lines[i][1])
            if not match:
                raise ValueError(f"cannot read line: {lines[i][1]}")
            key, value = match.group(1), match.group(2)
            if key in mapping:
                raise ValueError(f"duplicate key {key}")
            i += 1
            if value:
                mapping[key] = _scalar(value)
            elif i < len(lines) and lines[i][0] > indent:
                mapping[key], i = block(i, lines[i][0])
            else:
                mapping[key] = None
        if i < len(lines) and lines[i][0] > indent:
            raise ValueError(f"unexpected indentation: {lines[i][1]}")
        return mapping, i

    value, end = block(0, lines[0][0])
    if end != len(lines):
        raise ValueError(f"unread line: {lines[end][1]}")
    return value


def test_the_reader_refuses_what_it_does_not_understand() -> None:
    assert load_simple_yaml("a:\n  - x\n  - k: 1\n    j: 'q # r'\nb:\n") == {
        "a": ["x", {"k": 1, "j": "q # r"}],
        "b": None,
    }
    for bad in ("a: [1, 2]\n", "a:\n  b: 1\n   c: 2\n", "a: 1\na: 2\n", "a: |\n  x\n"):
        with pytest.raises(ValueError):
            load_simple_yaml(bad)


def _compose() -> dict[str, Any]:
    text = (ROOT / "compose.yaml").read_text()
    data = load_simple_yaml(text)
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        assert yaml.safe_load(text) == data  # this reader and a real one agree
    assert isinstance(data, dict)
    return data


def _defaults(value: str) -> str:
    """Compose's ${VAR:-default} with no VAR set."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_compose_runs_the_bot_on_a_healthy_postgres() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "bot"}
    postgres, bot = services["postgres"], services["bot"]
    assert postgres["image"] == "postgres:16-alpine"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert postgres["volumes"][0].split(":")[0] in _compose()["volumes"]
    password = postgres["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD"), "the password comes from the environment"

    assert bot["build"] == "."
    assert bot["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    url = urlsplit(_defaults(bot["environment"]["YISHI_DATABASE_URL"]))
    assert url.scheme == "postgresql" and url.hostname == "postgres" and url.port == 5432
    assert url.username == postgres["environment"]["POSTGRES_USER"]
    assert url.password == _defaults(password)
    assert url.path == "/" + postgres["environment"]["POSTGRES_DB"]
    assert bot["ports"] == ["8443:8443"]
    assert bot["restart"] == "unless-stopped"
    grace = re.fullmatch(r"(\d+)s", bot["stop_grace_period"])
    assert grace and int(grace.group(1)) > 10  # yishi's own stop takes up to 10 s
    assert bot["env_file"] == [{"path": ".env", "required": False}]
