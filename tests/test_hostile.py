"""Every hostile or careless input of issue 12, through the CLI and the API, with the promised answer.

The README promises one clear line and exit code 1 for bad input, never a traceback; JSON with a
``detail`` for every API error, the HTTP layer's own included; and that a declined pair never comes
back. Each case below is one reproduction from the issue (or its nearest sibling); the parser-level
cases run the server's real protocol class on raw bytes, and ``test_against_a_real_server`` sends
them over a socket to ``matchmaker serve`` (``-m slow``).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from matchmaker.cli import app as cli
from matchmaker.loading import default_profiles_dir
from matchmaker.service import create_app
from tests.api.support import AUTH, TestClient, attendee, settings

SHIPPED = default_profiles_dir()
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args), env={"MATCHMAKER_CONFIG": None, **(env or {})})  # type: ignore[dict-item]
    return result.exit_code, result.stdout, result.stderr


def one_line_error(code: int, err: str, message: str) -> bool:
    return code == 1 and err.startswith("error: ") and err.count("\n") == 1 and message in err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def hostile_names(tmp_path: Path) -> Path:
    """The shipped profiles, with two names a spreadsheet would run as formulas."""
    folder = tmp_path / "profiles"
    shutil.copytree(SHIPPED, folder)
    for org, name in (("highreso", "@SUM(1+1) Highreso"), ("india-ai-mission", '=HYPERLINK("http://x") Mission')):
        path = folder / f"{org}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["name"] = name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


# -- the command line ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [{"MATCHMAKER_API_KEYS": "plainkey"}, {"MATCHMAKER_CORS_ORIGINS": "*"}, {"MATCHMAKER_API_KEYS": "a,b"}],
    ids=["plain-key", "cors-star", "comma-list"],
)
def test_server_settings_never_break_a_read_only_command(env: dict[str, str]) -> None:
    code, out, err = run("partners", "highreso", "--top", "1", "--format", "json", env=env)
    assert code == 0 and json.loads(out)["partners"], err
    code, _, err = run("profiles", "list", env=env)
    assert code == 0, err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder; give a TOML file"),
        (lambda p: p.write_bytes(bytes(range(256))), "is not UTF-8 text"),
    ],
    ids=["a-folder", "binary"],
)
def test_a_config_that_is_no_toml_file_is_one_line(tmp_path: Path, make: Callable[[Path], Any], message: str) -> None:
    config = tmp_path / "config"
    make(config)
    assert one_line_error(*run("--config", str(config), "partners", "highreso")[::2], message)


def test_serve_on_an_unreachable_postgresql_is_one_line(tmp_path: Path) -> None:
    env = {"MATCHMAKER_DATABASE_URL": "postgresql://u:p@127.0.0.1:1/db"}
    code, _, err = run("serve", "--port", str(free_port()), env=env)
    assert one_line_error(code, err.splitlines()[-1] + "\n", "cannot open the database postgresql+psycopg://u:***@")
    assert "Traceback" not in err and ":p@" not in err  # the password is not printed


def test_serve_on_a_busy_port_says_so_before_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    import matchmaker.service.state as state

    fitted: list[int] = []
    monkeypatch.setattr(state, "fit_population", lambda *a, **k: fitted.append(1))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, _, err = run("serve", "--port", str(port))
    assert one_line_error(code, err, f"port {port} on 127.0.0.1 is already in use")
    assert fitted == []


def test_serve_does_not_create_the_folders_of_a_database_path(tmp_path: Path) -> None:
    database = tmp_path / "nonexistent" / "dir" / "x.db"
    code, _, err = run("serve", "--port", str(free_port()), env={"MATCHMAKER_DATABASE": str(database)})
    assert one_line_error(code, err, "folder") and "does not exist" in err
    assert not (tmp_path / "nonexistent").exists()


@pytest.mark.parametrize("country", ["XX", "Japan", "jp"])
def test_an_unknown_country_is_an_error_not_an_empty_table(country: str) -> None:
    assert one_line_error(*run("partners", "highreso", "--country", country)[::2], f"unknown country {country!r}")


@pytest.mark.parametrize("command", [["explain", "highreso", "yotta"], ["profiles", "show", "highreso"]])
def test_csv_where_there_is_no_csv_is_refused_not_answered_in_json(command: list[str]) -> None:
    code, out, err = run(*command, "--format", "csv")
    assert one_line_error(code, err, "'csv' is not one of 'table', 'json'") and out == ""


def test_synth_neither_makes_a_folder_of_a_file_name_nor_writes_over_a_file(tmp_path: Path) -> None:
    code, _, err = run("synth", "--n", "3", "--out", str(tmp_path / "s.txt"))
    assert one_line_error(code, err, "'.txt' is not a population file") and list(tmp_path.iterdir()) == []
    (tmp_path / "s.jsonl").write_text("precious\n")
    code, _, err = run("synth", "--n", "3", "--out", str(tmp_path / "s.jsonl"))
    assert one_line_error(code, err, "already exists") and (tmp_path / "s.jsonl").read_text() == "precious\n"


@pytest.mark.parametrize(
    "args",
    [["partners"], ["partners", "highreso", "--top", "many"], ["partners", "highreso", "--bogus"], ["frobnicate"]],
    ids=["missing-argument", "not-a-number", "unknown-option", "unknown-command"],
)
def test_usage_errors_are_one_line_and_exit_1(args: list[str]) -> None:
    code, out, err = run(*args)
    assert one_line_error(code, err, "") and out == "" and "╭" not in err


@pytest.mark.parametrize(
    "command",
    [["partners", "yotta"], ["pairs", "--top", "50"], ["profiles", "list"]],
    ids=["partners", "pairs", "list"],
)
def test_csv_output_escapes_names_a_spreadsheet_would_run(hostile_names: Path, command: list[str]) -> None:
    code, out, err = run("--profiles", str(hostile_names), *command, "--format", "csv")
    assert code == 0, err
    cells = [cell for line in out.splitlines() for cell in line.split(",")]
    assert any(cell.lstrip('"').startswith("'@SUM") for cell in cells), out
    assert not any(cell.lstrip('"').startswith(("@", "=")) for cell in cells), out


def test_counts_agree_with_their_number() -> None:
    assert "1 problems" not in run("profiles", "validate")[1] + run("profiles", "validate")[2]


# -- the HTTP API ----------------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings(tmp_path / "matchmaker.db"))) as test_client:
        yield test_client


def is_json_error(response: Any, status: int, message: str = "") -> bool:
    return (
        response.status_code == status
        and response.headers["content-type"].startswith("application/json")
        and message in response.json()["detail"]
        and response.headers["x-content-type-options"] == "nosniff"
    )


def test_a_declined_pair_leaves_the_report(client: TestClient) -> None:
    declined = {"organisation": "highreso", "partner": "india-ai-mission", "outcome": "declined"}
    assert client.post("/v1/feedback", json=declined, headers=AUTH).status_code == 201
    csv = client.get("/v1/reports/pairings", params={"format": "csv", "top": 100, "org": "highreso"}, headers=AUTH)
    assert "highreso,india-ai-mission" not in csv.text and "india-ai-mission,highreso" not in csv.text


def test_the_report_is_not_for_anyone_who_asks(client: TestClient) -> None:
    assert is_json_error(client.get("/v1/reports/pairings", params={"format": "html"}), 401, "needs an API key")


def test_the_html_report_has_a_real_content_security_policy(client: TestClient) -> None:
    response = client.get("/v1/reports/pairings", params={"format": "html", "top": 2}, headers=AUTH)
    assert "default-src 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"X-Big": "a" * (10 * 1024 * 1024)}, 431),
        ({f"X-Many-{k}": "1" for k in range(5000)}, 431),
    ],
    ids=["10-MB-header", "5000-headers"],
)
def test_request_headers_are_capped(client: TestClient, headers: dict[str, str], status: int) -> None:
    assert is_json_error(client.get("/v1/vocabulary", headers=headers), status, "the most this server accepts")


def test_an_over_long_request_target_is_414(client: TestClient) -> None:
    query = "&".join("p=1" for _ in range(15_000))  # the test client allows 64 KiB; the raw tests send 100,000
    assert is_json_error(client.get(f"/v1/pairings?{query}"), 414, "longer than 8192 bytes")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"organisation": "highreso", "partner": "yotta", "partner": "tcs", "outcome": "declined"}', "appears twice"),
        ('{"organisation": "highreso", "partner": "yotta", "outcome": NaN}', "NaN is not a JSON number"),
        ('{"organisation": "highreso", "partner": "\\ud800", "outcome": "declined"}', "half of a surrogate pair"),
    ],
    ids=["duplicate-key", "nan", "lone-surrogate"],
)
def test_bodies_are_strict_json(client: TestClient, body: str, message: str) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    assert is_json_error(client.post("/v1/feedback", content=body, headers=headers), 400, message)


def test_a_boolean_is_not_a_number(client: TestClient) -> None:
    body = attendee()
    body["offers"]["data"][0]["strength"] = True
    response = client.put("/v1/organisations/acme", json=body, headers=AUTH)
    assert is_json_error(response, 422, "strength") and response.json()["problems"][0]["value"] == "true"
    assert client.get("/v1/organisations/acme").status_code == 404


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("name", "Acme\u061cRobotics"),
        ("name", "Acme\u180eRobotics"),
        ("summary", "Line one\u2028line two"),
        ("summary", "Paragraph\u2029two"),
        ("name", "\u0301\u0302\u0303"),
        ("name", " \u0301 "),
    ],
    ids=["arabic-letter-mark", "mongolian-vowel-separator", "line-separator", "paragraph-separator", "marks", "spaced"],
)
def test_the_text_rule_refuses_invisible_and_ambiguous_characters(client: TestClient, field: str, text: str) -> None:
    response = client.put("/v1/organisations/acme", json=attendee(**{field: text}), headers=AUTH)
    assert is_json_error(response, 422, field)


def test_a_body_without_content_type_is_415_without_a_bytes_repr(client: TestClient) -> None:
    body = json.dumps(attendee()).encode()
    response = client.put("/v1/organisations/acme", content=body, headers={**AUTH, "Content-Type": ""})
    assert is_json_error(response, 415, "send 'Content-Type: application/json' (got no Content-Type)")
    assert "b'" not in response.text
    response = client.post("/v1/match", content=body, headers={"Content-Type": "text/plain"})
    assert is_json_error(response, 415, "(got 'text/plain')")


def test_every_response_says_nosniff(client: TestClient) -> None:
    for response in (client.get("/v1/vocabulary"), client.get("/no/such"), client.get("/docs")):
        assert response.headers["x-content-type-options"] == "nosniff", response.url


def test_the_docs_load_nothing_from_the_internet(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "cdn" not in page and "https://" not in page and client.get("/docs/assets/swagger-ui.css").status_code == 200


def test_two_problems_read_as_one_more_problem(client: TestClient) -> None:
    response = client.put("/v1/organisations/acme", json=attendee(country="Japan", kind=7), headers=AUTH)
    assert "(and 1 more problem)" in response.json()["detail"]


# -- what uvicorn answered itself, before any application code ---------------------------------------


class Transport:
    """An asyncio transport that keeps what the protocol writes."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_protocol(self, protocol: Any) -> None:
        pass


def feed(*chunks: bytes) -> tuple[int, dict[str, str], bytes]:
    """Feed raw bytes to the protocol ``matchmaker serve`` runs; the status, headers and body it answers."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from matchmaker.service.protocol import LimitedHttpToolsProtocol

    async def ok(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    async def session() -> bytes:
        config = Config(app=ok, log_level="critical", lifespan="off")
        config.load()
        protocol = LimitedHttpToolsProtocol(config=config, server_state=ServerState(), app_state={})
        transport = Transport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        for chunk in chunks:
            if transport.closed:
                break
            protocol.data_received(chunk)
        await asyncio.sleep(0.05)
        return transport.written

    answer = asyncio.run(session())
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


HEAD = b"Host: x\r\n"
RAW = {
    "over-long-request-line": ([b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n" + HEAD + b"\r\n"], 414),
    "100000-query-parameters": ([b"GET /v1/pairings?" + b"&".join([b"p=1"] * 100_000) + b" HTTP/1.1\r\n"], 414),
    "content-length-minus-1": ([b"POST /v1/match HTTP/1.1\r\n" + HEAD + b"Content-Length: -1\r\n\r\n"], 400),
    "not-http": ([b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n"], 400),
    "10-MB-header": ([b"GET / HTTP/1.1\r\nX-Big: "] + [b"a" * 65536] * 160, 431),
    "5000-headers": ([b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % k for k in range(5000)) + b"\r\n"], 431),
}


@pytest.mark.parametrize(("chunks", "status"), RAW.values(), ids=RAW.keys())
def test_the_protocol_answers_what_it_cannot_parse_in_json(chunks: list[bytes], status: int) -> None:
    code, headers, body = feed(*chunks)
    assert code == status and headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff" and headers["connection"] == "close"
    assert json.loads(body)["detail"]


def test_the_protocol_stops_reading_a_huge_header_early() -> None:
    code, _, body = feed(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000)
    assert code == 431 and b"larger than 65536 bytes" in body


def test_the_protocol_lets_an_ordinary_request_through() -> None:
    assert feed(b"GET /v1/vocabulary HTTP/1.1\r\n" + HEAD + b"\r\n")[0] == 200


@pytest.mark.slow
def test_against_a_real_server(tmp_path: Path) -> None:
    """The same raw requests over a socket to ``matchmaker serve``: every answer JSON."""
    port = free_port()
    env = {"MATCHMAKER_DATABASE": str(tmp_path / "m.db"), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-c", "from matchmaker.cli import app; app()", "serve", "--port", str(port)]
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while b"Application startup complete" not in (tmp_path / "server.log").read_bytes():
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.2)
        for name, (chunks, status) in RAW.items():
            with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                try:
                    for chunk in chunks:
                        connection.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # refused before all of it was sent: the answer is already waiting
                answer = b""
                try:
                    while chunk := connection.recv(65536):
                        answer += chunk
                except ConnectionResetError:
                    pass
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.split()[1] == str(status).encode(), (name, answer[:300])
            assert b"content-type: application/json" in head.lower() and json.loads(body)["detail"], name
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
