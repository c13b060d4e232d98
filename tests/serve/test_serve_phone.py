"""A phone as the camera. `poseit serve --tls` on a fresh install (an empty user data folder) makes its certificate
and answers over HTTPS; the desktop page shows a QR code of the phone's link (decoded here from a screenshot); a
phone-sized browser opening that link with a portrait camera (a clip cropped upright with OpenCV) gets the whole
upright picture, not a 4:3 band of it, and counts the clip as the desktop does with the same clip in landscape."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import cv2
import httpx
import pytest
from serve_helpers import Server

from live_web import launch, need_browser, read_frames, reps_reach, write_y4m
from poseit.serve.tls import lan_address, phone_link, self_signed

TOKEN = "phone-test-token-123"
SCREENSHOT = Path(__file__).resolve().parents[2] / "out" / "serve-phone.png"  # docs/serving.md's picture
# 9 labelled squats (labels2.csv), front view, 1280x720 at 23.976 fps; the first 4 end at frame 177, standing
SQUATS = "exercise-videos/Kratika6083+Aithletique-AI-visual-coach/squat.mp4"
SQUAT_REPS, SQUAT_LAST = 4, 177
FPS = 15


def peer_cert(port: int) -> bytes:
    """The DER certificate the server at 127.0.0.1:port presents."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, ctx.wrap_socket(raw) as tls:
        return tls.getpeercert(binary_form=True)


def test_serve_tls_on_a_fresh_install(tmp_path, serve_models):
    data = tmp_path / "data"  # the user data folder, empty: no certificate yet
    env = {"XDG_DATA_HOME": str(data)}
    srv = Server(tmp_path / "h.db", "--tls", env=env)
    try:
        cert = data / "poseit" / "tls" / "cert.pem"
        assert cert.is_file() and (cert.parent / "key.pem").stat().st_mode & 0o077 == 0
        r = httpx.get(srv.url + "/api/exercises", verify=False)
        assert r.status_code == 200 and r.url.scheme == "https"
        assert httpx.get(srv.url + "/", verify=False).status_code == 200
        assert "https://127.0.0.1" in srv.log.read_text()
        with pytest.raises(httpx.HTTPError):  # plain HTTP is not served on the TLS port
            httpx.get(f"http://127.0.0.1:{srv.port}/api/exercises", timeout=5)
        first = peer_cert(srv.port)
        phone = httpx.get(srv.url + "/api/phone", verify=False).json()
        assert phone["url"] is None and phone["secure"] and "--host 0.0.0.0 --tls" in phone["note"]
        assert httpx.get(srv.url + "/api/phone.svg", verify=False).status_code == 404
    finally:
        srv.stop()
    again = Server(tmp_path / "h.db", "--tls", env=env)  # the second start keeps the certificate
    try:
        assert peer_cert(again.port) == first
    finally:
        again.stop()


def test_self_signed_certificate_names_this_machine(tmp_path):
    from cryptography import x509

    cert_path, key_path = self_signed(tmp_path, hosts=("10.1.2.3", "coach.lan"))
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    assert {"127.0.0.1", "::1", "10.1.2.3"} <= ips and (lan_address() is None or lan_address() in ips)
    assert {"localhost", "coach.lan", socket.gethostname()} <= set(san.get_values_for_type(x509.DNSName))
    assert self_signed(tmp_path, hosts=("10.1.2.3",)) == (cert_path, key_path)
    assert cert_path.read_bytes() == self_signed(tmp_path)[0].read_bytes()  # kept while it covers the names
    before = cert_path.read_bytes()
    self_signed(tmp_path, hosts=("10.9.9.9",))  # a new address: made anew
    assert cert_path.read_bytes() != before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--certfile", "nothing.pem"], "--certfile and --keyfile go together"),
        (["--certfile", "nothing.pem", "--keyfile", "nothing.key"], "no such certificate file: nothing.pem"),
        (["--tls", "--ray", "local"], "--tls is for the single-process server"),
    ],
)
def test_tls_options_refuse_in_one_line(tmp_path, args, message):
    proc = subprocess.run(
        [sys.executable, "-m", "poseit.cli", "serve", "--db", str(tmp_path / "h.db"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 1 and len(lines) == 1 and message in lines[0], proc.stderr


def test_phone_link_names_this_machine_on_the_network():
    link = phone_link("0.0.0.0", 8443, True, "abcdefgh12")
    address = lan_address() or socket.gethostname()
    assert link["url"] == f"https://{address}:8443/?token=abcdefgh12" and link["secure"]
    assert phone_link("192.168.1.20", 8000, False, None)["url"] == "http://192.168.1.20:8000/"
    assert "--tls" in phone_link("192.168.1.20", 8000, False, None)["note"]
    assert phone_link("127.0.0.1", 8000, True, None)["url"] is None


# --- in real browsers ------------------------------------------------------------------------------------------
def squat_clips(data_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The squat clip's first four reps as two fake cameras: landscape (640x360, a desktop webcam) and portrait
    (a 9:16 crop of the middle, 360x640, a phone held upright); 1.5 s standing before and 1 s after."""
    clip = data_dir / SQUATS
    if not clip.is_file():
        pytest.skip(f"clip missing: {clip}")
    frames = read_frames(clip, width=1280)[: SQUAT_LAST + 1]
    frames = [frames[0]] * (FPS * 3 // 2) + frames + [frames[-1]] * FPS
    h, w = frames[0].shape[:2]
    crop = int(h * 9 / 16) // 2 * 2
    x0 = (w - crop) // 2
    landscape = [cv2.resize(f, (640, 360), interpolation=cv2.INTER_AREA) for f in frames]
    portrait = [cv2.resize(f[:, x0 : x0 + crop], (360, 640), interpolation=cv2.INTER_AREA) for f in frames]
    paths = tmp_path / "landscape.y4m", tmp_path / "portrait.y4m"
    write_y4m(landscape, paths[0], FPS)
    write_y4m(portrait, paths[1], FPS)
    return paths


def count_squats(page, url: str, pass_s: float, screenshot: Path | None = None) -> dict:
    """Open the page, start squats on the camera; the count once it reaches the clip's reps (within one pass of
    the looping clip), the camera's picture size and the size of the frames the server answered."""
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    page.select_option("#exercise", "squat")
    page.select_option("#source", "camera")
    page.click("#start")
    page.wait_for_selector("#status.ok", timeout=30_000)
    started = time.monotonic()
    reps = reps_reach(page, SQUAT_REPS, within=pass_s * 3)
    took = time.monotonic() - started
    out = page.evaluate(
        """() => ({video: [document.getElementById("video").videoWidth, document.getElementById("video").videoHeight],
                   overlay: [document.getElementById("overlay").width, document.getElementById("overlay").height],
                   fits: document.documentElement.scrollWidth <= window.innerWidth + 1})"""
    )
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.locator("#live").screenshot(path=str(screenshot))
    page.click("#stop")
    page.wait_for_selector("#summary:not([hidden])", timeout=30_000)
    return {"reps": reps, "took": took, **out}


@pytest.mark.slow
def test_phone_opens_the_qr_link_and_counts_a_portrait_camera_as_the_desktop(tmp_path, data_dir, serve_models):
    sync_api = need_browser()
    landscape, portrait = squat_clips(data_dir, tmp_path)
    pass_s = (FPS * 3 // 2 + SQUAT_LAST + 1 + FPS) / FPS
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    srv = Server(tmp_path / "h.db", "--host", "0.0.0.0", "--token", TOKEN, "--tls", "--max-fps", "0", env=env)
    try:
        with sync_api.sync_playwright() as playwright:
            desktop = launch(playwright, landscape, tmp_path / "desktop", ignore_https_errors=True)
            try:
                page = desktop.pages[0] if desktop.pages else desktop.new_page()
                page.goto(f"{srv.url}/?token={TOKEN}")
                page.wait_for_selector("body[data-ready='1']", timeout=30_000)
                page.click("#phone")
                page.wait_for_selector("#phone-qr img", timeout=30_000)
                for _ in range(100):  # (the page's CSP allows no wait_for_function: it evaluates a string)
                    if page.evaluate("() => document.querySelector('#phone-qr img').complete"):
                        break
                    time.sleep(0.1)
                shot = tmp_path / "qr.png"
                page.locator("#phone-qr img").screenshot(path=str(shot))
                found, _, _ = cv2.QRCodeDetector().detectAndDecode(cv2.imread(str(shot)))
                assert found == f"https://{lan_address() or socket.gethostname()}:{srv.port}/?token={TOKEN}"
                assert found == page.text_content("#phone-url")
                on_desktop = count_squats(page, f"{srv.url}/?token={TOKEN}", pass_s)
            finally:
                desktop.close()
            phone = launch(
                playwright,
                portrait,
                tmp_path / "phone",
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                ignore_https_errors=True,
            )
            try:
                page = phone.pages[0] if phone.pages else phone.new_page()
                on_phone = count_squats(page, found, pass_s, screenshot=SCREENSHOT)  # the QR code's link, HTTPS
            finally:
                phone.close()
        print("desktop", on_desktop, "phone", on_phone)
        assert on_desktop["video"] == [640, 360] and on_desktop["reps"] == SQUAT_REPS, on_desktop
        # the phone's page got the whole upright picture (no 4:3 band), and the server coached all of it
        assert on_phone["video"] == [360, 640] and on_phone["overlay"] == [360, 640], on_phone
        assert on_phone["reps"] == on_desktop["reps"] and on_phone["fits"], on_phone
        assert on_phone["took"] < pass_s + 5 and on_desktop["took"] < pass_s + 5  # within the clip's first pass
    finally:
        srv.stop()
