"""The statistics command: from an export of the log, or from a running stack's statistics route,
to the report's JSON, CSV, charts and PDF."""

from __future__ import annotations

import json
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader

from notfall.reports.statistics import main, period, statistics

sys.path.insert(0, str(Path(__file__).parents[1] / "domain"))
from statistics_history import history


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("log") / "events.jsonl"
    records = [e.to_record() for e in history().envelopes]
    # A stream the report does not read, with an event type this module never imported: skipped.
    records.append({**records[0], "stream_id": "tariffs", "event_type": "PriceSet", "data": {}})
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_the_command_writes_the_report_its_charts_and_a_pdf_that_embeds_them(export: Path, tmp_path: Path) -> None:
    assert main(["--from", "2026-03", "--to", "2026-03", "--export", str(export), "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["figures"]["consultations"] == 3 and report["figures"]["care_minutes"] == 330
    assert report["charts"] == {
        "monthly": {"svg": "monthly.svg", "png": "monthly.png"},
        "load": {"svg": "load.svg", "png": "load.png"},
    }
    for links in report["charts"].values():
        for name in links.values():
            assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "monthly.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    pages = PdfReader(tmp_path / report["pdf"]).pages
    assert "Statistics 2026-03 to 2026-03" in pages[0].extract_text()
    assert [len(page.images) for page in pages[-2:]] == [1, 1]  # the two charts
    assert (tmp_path / "report.csv").read_text(encoding="utf-8").startswith("section,key,figure,value\n")


def test_one_partner_without_charts(export: Path, tmp_path: Path) -> None:
    args = ["--from", "2026-03", "--to", "2026-03", "--export", str(export), "--out", str(tmp_path)]
    assert main([*args, "--partner", "laatzen", "--no-charts"]) == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["figures"]["emergencies"] == 2 and "charts" not in report
    assert not (tmp_path / "report.pdf").exists()


@pytest.mark.parametrize(
    "extra", [["--from", "2026-04", "--to", "2026-03"], ["--from", "2026-03", "--to", "2026-03", "--partner", "nobody"]]
)
def test_bad_input_stops_the_command(export: Path, tmp_path: Path, extra: list[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main([*extra, "--export", str(export), "--out", str(tmp_path / "x")])
    assert stop.value.code == 2
    assert not (tmp_path / "x").exists()


@pytest.fixture
def stack() -> Iterator[tuple[str, list[str]]]:
    """A stand-in for a running stack: answers GET /reports/statistics with the report of the
    small history (as the stack's route would), to a caller with a token; records each path asked."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path != "/reports/statistics" or self.headers.get("Authorization") != "token-1":
                self.send_response(403)
                self.end_headers()
                return
            body = json.dumps(statistics(history().envelopes, period(query["from"], query["to"]))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


def test_from_a_stack_the_command_asks_its_statistics_route_not_its_log(stack, tmp_path: Path) -> None:
    url, asked = stack
    args = ["--from", "2026-03", "--to", "2026-03", "--url", url, "--token", "token-1", "--out", str(tmp_path)]
    assert main([*args, "--no-charts"]) == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["figures"]["consultations"] == 3 and report["figures"]["care_minutes"] == 330
    assert asked == ["/reports/statistics?from=2026-03&to=2026-03"]
