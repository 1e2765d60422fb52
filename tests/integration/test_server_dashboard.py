"""The dashboard in headless Chromium: the DOM it renders and a screenshot, both checked."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes import CalcWorld, calc_world, code_replies, rerank_reply
from tests.server_harness import ADD_SCRIPT, DIVIDE_BY_ZERO_SCRIPT, calc_server, scripted_agent

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (apt-get install -y chromium)"
)
OK_GREEN = (0x1D, 0x8A, 0x4E)
ERROR_RED = (0xC2, 0x35, 0x2B)
WIDTH, HEIGHT = 1280, 900


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CalcWorld]:
    with calc_world(tmp_path) as running:
        yield running


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        f"--window-size={WIDTH},{HEIGHT}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def png_pixels(path: Path) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Decode an 8-bit RGB/RGBA PNG with the standard library (filters undone)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, width, height, channels = 8, b"", 0, 0, 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8
            channels = {2: 3, 6: 4}[color]
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - up_left
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + predictor) & 0xFF
        pixels.extend((line[i], line[i + 1], line[i + 2]) for i in range(0, stride, channels))
        previous = line
    return width, height, pixels


def test_dashboard_shows_a_runs_attempts_side_by_side(world: CalcWorld, tmp_path: Path) -> None:
    agent = scripted_agent(
        tmp_path,
        [rerank_reply(["calc"], intent="Divide, else add.")],
        code_replies(DIVIDE_BY_ZERO_SCRIPT, ADD_SCRIPT),
    )
    with calc_server(world, agent, tmp_path / "home") as server:
        response = httpx.post(
            f"{server.base_url}/runs/wait", json={"input": {"intent": "divide 6 by 0"}}, timeout=60
        )
        run_id = response.headers["content-location"].rsplit("/", 1)[1]
        url = f"{server.base_url}/#runs/{run_id}"
        dom = chromium(tmp_path, "--dump-dom", url).stdout
        shot = tmp_path / "dashboard.png"
        chromium(tmp_path, f"--screenshot={shot}", url)
        services_dom = chromium(tmp_path, "--dump-dom", f"{server.base_url}/#services").stdout

    # The page's script ran: the run's row and both attempts are in the DOM.
    assert "divide 6 by 0" in dom
    assert "attempt 1 · code · check ok · exit 1" in dom
    assert "attempt 2 · code · check ok · exit 0" in dom
    assert "division by zero" in dom
    assert "calc.add(2, 3)" in dom
    assert "Adds and divides numbers." in services_dom

    width, height, pixels = png_pixels(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    colours = set(pixels)
    assert len(colours) > 50  # text, tables and code were drawn, not a blank page
    assert OK_GREEN in colours  # the run's status "success"
    assert ERROR_RED in colours  # the first attempt's error
