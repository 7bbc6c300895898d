"""`make run` as a newcomer sees it: `python -m infra.local` loads the demo behind a progress bar,
prints no request lines (they are DEBUG), prints its banner last, and Ctrl-C stops it within seconds."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BANNER_END = "/cases/$case"  # the banner's last line reads the opened case back
STOP_SECONDS = 5


def lines_of(process: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """The process's output, line by line (None at its end), read on a thread so a test can wait with a timeout."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_make_run_loads_quietly_prints_the_banner_last_and_stops_on_ctrl_c() -> None:
    # --port 0: the API on any free port (moto always takes one), so it never collides with a running `make run`.
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "--port", "0"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines = lines_of(process)
    try:
        before: list[str] = []
        deadline = time.monotonic() + 240
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "exited before its banner:\n" + "".join(before)
            before.append(line)
            if BANNER_END in line:
                break
        output = "".join(before)
        assert "loading the demo" in output  # the progress bar
        # no request lines, nor any other log line, at the default level: the stream's deliveries are DEBUG too
        assert "HTTP/1.1" not in output and " INFO " not in output, output
        banner = output[output.index("notfall local stack") :]
        assert "Demo data: 8 partners, 10 caregivers, 11 cases." in banner
        assert "loading the demo" not in banner and "Traceback" not in output

        process.send_signal(signal.SIGINT)
        asked = time.monotonic()
        process.wait(timeout=60)
        took = time.monotonic() - asked
        assert process.returncode == 0
        assert took < STOP_SECONDS, f"Ctrl-C took {took:.1f}s to stop the stack"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
