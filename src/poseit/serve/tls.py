"""HTTPS for ``poseit serve --tls``: a self-signed certificate made on first use (kept in the user data folder),
the address a phone on the same network reaches this machine at, and the QR code of the phone's link.

Browsers give the camera only to secure pages (HTTPS, or localhost), so a phone used as the camera needs the server
over HTTPS. The certificate is self-signed: the phone warns once; ``--certfile``/``--keyfile`` use a real one.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from pathlib import Path

from poseit.errors import PoseItError

CERT, KEY = "cert.pem", "key.pem"
VALID_DAYS = 365
RENEW_DAYS = 7  # a certificate closer than this to its end is made anew


def tls_folder() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("poseit")) / "tls"


def lan_address() -> str | None:
    """This machine's address on its local network (the interface of its default route), or None. Sends
    nothing: connecting a UDP socket only chooses the route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if ipaddress.ip_address(address).is_loopback or address == "0.0.0.0" else address


def cert_names(extra: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) a certificate of this machine should name."""
    dns, ips = {"localhost", socket.gethostname()}, {"127.0.0.1", "::1"}
    for name in (*extra, lan_address()):
        if not name or name in ("0.0.0.0", "::"):
            continue
        try:
            ips.add(str(ipaddress.ip_address(name.strip("[]"))))
        except ValueError:
            dns.add(name)
    return sorted(dns), sorted(ips)


def _covers(cert_path: Path, dns: list[str], ips: list[str]) -> bool:
    """Whether the certificate there is valid for a while yet and names every one of ``dns`` and ``ips``."""
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    ends = cert.not_valid_after_utc
    if ends - dt.datetime.now(dt.timezone.utc) < dt.timedelta(days=RENEW_DAYS):
        return False
    have_dns = set(san.get_values_for_type(x509.DNSName))
    have_ips = {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    return set(dns) <= have_dns and set(ips) <= have_ips


def self_signed(folder: Path | None = None, hosts: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """(certificate, key) files of a self-signed certificate for this machine (and ``hosts``), made on first use
    in ``folder`` (default: the user data folder's ``poseit/tls``) and made anew when it expires or does not
    name this machine's current addresses."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = folder or tls_folder()
    cert_path, key_path = folder / CERT, folder / KEY
    dns, ips = cert_names(hosts)
    if key_path.is_file() and _covers(cert_path, dns, ips):
        return cert_path, key_path
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PoseItError(f"cannot create the certificate folder {folder}: {exc.strerror}") from None
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Pose-It! on {socket.gethostname()}")])
    now = dt.datetime.now(dt.timezone.utc)
    san = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the key readable by its owner only
    with os.fdopen(fd, "wb") as f:
        f.write(pem_key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def check_files(certfile: Path, keyfile: Path) -> None:
    """One line if the given certificate or key cannot be read as PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    for path, what in ((certfile, "certificate"), (keyfile, "key")):
        if not path.is_file():
            raise PoseItError(f"no such {what} file: {path}")
    try:
        x509.load_pem_x509_certificate(certfile.read_bytes())
    except ValueError:
        raise PoseItError(f"{certfile} is not a PEM certificate") from None
    try:
        serialization.load_pem_private_key(keyfile.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise PoseItError(f"{keyfile} is not an unencrypted PEM private key") from None


def qr_svg(text: str) -> bytes:
    """The QR code of ``text`` as SVG (segno, pure Python; dark modules on white)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="svg", scale=8, border=4, dark="#000", light="#fff")
    return out.getvalue()


def phone_link(host: str, port: int, tls: bool, token: str | None) -> dict[str, str | bool | None]:
    """The link a phone on the same network opens (with the token where one is needed), and a note on what
    it takes: ``{"url", "secure", "note"}`` (``url`` None when the server answers on this machine only)."""
    from poseit.serve.settings import is_loopback

    if is_loopback(host):
        note = (
            "This server answers on this machine only. To use a phone as the camera, start it with "
            "poseit serve --host 0.0.0.0 --tls (with a token: --token or POSEIT_TOKEN)."
        )
        return {"url": None, "secure": tls, "note": note}
    address = lan_address() if host in ("0.0.0.0", "::") else host
    address = address or socket.gethostname()
    shown = f"[{address}]" if ":" in address else address
    url = f"{'https' if tls else 'http'}://{shown}:{port}/" + (f"?token={token}" if token else "")
    if tls:
        note = (
            "Scan this with the phone (on the same network) and accept the certificate warning once "
            "(the certificate is this server's own). Then pick Camera and press Start."
        )
    else:
        note = "Phones give the camera only to HTTPS pages: start the server with --tls to use a phone as the camera."
    return {"url": url, "secure": tls, "note": note}
