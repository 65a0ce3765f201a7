"""TLS of design §5: TLS 1.3 only, X25519 only, TLS_CHACHA20_POLY1305_SHA256
only, HTTP/2, no OCSP stapling, the certificate chain of the local CA."""
import socket
import ssl
import subprocess
import urllib.parse

import pytest


@pytest.fixture(scope="module")
def addr(base_url):
    u = urllib.parse.urlsplit(base_url)
    return u.hostname, u.port


def handshake(addr, ca_file, **opts):
    ctx = ssl.create_default_context(cafile=ca_file)
    for k, v in opts.items():
        setattr(ctx, k, v)
    with socket.create_connection(addr, timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.version(), tls.cipher()[0], tls.selected_alpn_protocol()


def s_client(addr, *args):
    """openssl s_client: (handshake succeeded, output)."""
    p = subprocess.run(["openssl", "s_client", "-connect", f"{addr[0]}:{addr[1]}",
                        "-servername", "localhost", *args],
                       input=b"", capture_output=True, timeout=20)
    out = (p.stdout + p.stderr).decode(errors="replace")
    return p.returncode == 0 and "Cipher is (NONE)" not in out, out


def test_tls13_with_chacha20_is_what_a_default_client_gets(addr, ca_file):
    version, cipher, _ = handshake(addr, ca_file)
    assert version == "TLSv1.3"
    assert cipher == "TLS_CHACHA20_POLY1305_SHA256"


def test_http2_is_offered(addr, ca_file):
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(addr, timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.selected_alpn_protocol() == "h2"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_1])
def test_older_tls_is_refused(addr, ca_file, version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca_file)
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    ctx.maximum_version = version
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError):
        with socket.create_connection(addr, timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost"):
                pass


def test_tls12_refused_by_openssl_too(addr):
    ok, out = s_client(addr, "-tls1_2")
    assert not ok, out


@pytest.mark.parametrize("suite", ["TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"])
def test_only_chacha20_suite_is_accepted(addr, ca_file, suite):
    ok, out = s_client(addr, "-tls1_3", "-ciphersuites", suite)
    assert not ok, out
    ok, out = s_client(addr, "-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256",
                       "-CAfile", ca_file, "-verify_return_error")
    assert ok, out
    assert "TLS_CHACHA20_POLY1305_SHA256" in out


@pytest.mark.parametrize("group", ["P-256", "P-384", "X448"])
def test_only_x25519_key_exchange_is_accepted(addr, group):
    ok, out = s_client(addr, "-tls1_3", "-groups", group)
    assert not ok, out


def test_x25519_is_accepted_and_the_chain_verifies(addr, ca_file):
    ok, out = s_client(addr, "-tls1_3", "-groups", "X25519", "-CAfile", ca_file,
                       "-verify_return_error")
    assert ok, out
    assert "Server Temp Key: X25519" in out
    assert "Verification: OK" in out


def test_no_ocsp_stapling(addr):
    ok, out = s_client(addr, "-tls1_3", "-status")
    assert ok, out
    assert "OCSP response: no response sent" in out


def test_untrusted_client_cannot_verify_without_the_local_ca(addr):
    ctx = ssl.create_default_context(cafile="/etc/ssl/certs/ca-certificates.crt")
    with pytest.raises(ssl.SSLCertVerificationError):
        with socket.create_connection(addr, timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost"):
                pass
