"""The local CA and server certificate of design §5, and certs/mkcerts.sh that makes them.

Three groups of tests:
- the stack's certificates: read from $CHAT_CERTS_DIR (the running stack's certs); when
  it is unset, a session fixture runs mkcerts.sh into a temporary directory so this file
  also runs alone;
- mkcerts.sh itself, each test in a fresh temporary CERTS_DIR: idempotence, renewal,
  file modes, refusal of bad input;
- the certificate nginx serves at $CHAT_BASE_URL (skipped when unset) is server.crt.

The expected extra SAN host is $CHAT_HOSTNAME, else this machine's host name, as in the
script.
"""

import ipaddress
import os
import shutil
import socket
import ssl
import stat
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID

REPO = Path(__file__).resolve().parents[2]
MKCERTS = REPO / "certs" / "mkcerts.sh"
FILES = ("ca.key", "ca.crt", "server.key", "server.crt")
SERVER_DAYS = 90
CA_DAYS = 3650
SLACK = timedelta(minutes=1)
# Variables that change what mkcerts.sh makes; script tests start without them.
SCRIPT_ENV = ("CERTS_DIR", "CHAT_HOSTNAME", "CERT_DAYS", "CA_DAYS")


# --- helpers ---------------------------------------------------------------------------

def run_mkcerts(out, **env):
    """Runs mkcerts.sh with CERTS_DIR=out and only the given settings."""
    full = {k: v for k, v in os.environ.items() if k not in SCRIPT_ENV}
    full["CERTS_DIR"] = str(out)
    full.update(env)
    return subprocess.run([str(MKCERTS)], env=full, capture_output=True, text=True,
                          timeout=120, check=False)


def mkcerts(out, **env):
    """Runs mkcerts.sh, asserts it succeeded quietly, returns its one output line."""
    r = run_mkcerts(out, **env)
    assert r.returncode == 0, f"mkcerts.sh failed ({r.returncode}): {r.stderr}"
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r.stdout
    return lines[0]


def load_cert(path):
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def load_key(path):
    return serialization.load_pem_private_key(Path(path).read_bytes(), password=None)


def snapshot(out):
    """Bytes and modification times of the four files."""
    return {n: ((out / n).read_bytes(), (out / n).stat().st_mtime_ns) for n in FILES}


def expected_host():
    return (os.environ.get("CHAT_HOSTNAME") or socket.gethostname()).lower()


def san_of(cert):
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (set(san.get_values_for_type(x509.DNSName)),
            set(san.get_values_for_type(x509.IPAddress)))


def expected_san(host):
    """(DNS names, IP addresses) the script puts in the SAN for this host name."""
    dns, ips = {"localhost"}, {ipaddress.ip_address("127.0.0.1")}
    try:
        ips.add(ipaddress.IPv4Address(host))
    except ValueError:
        dns.add(host)
    return dns, ips


def validity(cert):
    return cert.not_valid_after - cert.not_valid_before


def signed_by(cert, issuer):
    """Does issuer's key verify cert's signature (raises InvalidSignature if not)?"""
    issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                               ec.ECDSA(cert.signature_hash_algorithm))
    return cert.issuer == issuer.subject


def ext(cert, cls):
    return cert.extensions.get_extension_for_class(cls)


def public_der(key_or_cert):
    pub = key_or_cert.public_key()
    return pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


# --- the stack's certificates ----------------------------------------------------------

@pytest.fixture(scope="session")
def stack_dir(tmp_path_factory):
    given = os.environ.get("CHAT_CERTS_DIR")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("stack-certs")
    host = {"CHAT_HOSTNAME": os.environ["CHAT_HOSTNAME"]} if "CHAT_HOSTNAME" in os.environ else {}
    mkcerts(out, **host)
    return out


@pytest.fixture(scope="session")
def ca(stack_dir):
    return load_cert(stack_dir / "ca.crt")


@pytest.fixture(scope="session")
def server(stack_dir):
    return load_cert(stack_dir / "server.crt")


def test_stack_certificates_are_all_there(stack_dir):
    for name in FILES:
        assert (stack_dir / name).stat().st_size > 0, name


def test_ca_is_x509_v3(ca):
    assert ca.version == x509.Version.v3


def test_ca_key_is_ecdsa_p384(ca, stack_dir):
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(ca.public_key().curve, ec.SECP384R1)
    key = load_key(stack_dir / "ca.key")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP384R1)


def test_ca_key_file_belongs_to_ca_certificate(ca, stack_dir):
    assert public_der(load_key(stack_dir / "ca.key")) == public_der(ca)


def test_ca_signature_is_ecdsa_sha384(ca):
    assert ca.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA384
    assert isinstance(ca.signature_hash_algorithm, hashes.SHA384)


def test_ca_is_self_signed(ca):
    assert signed_by(ca, ca)


def test_ca_basic_constraints_critical_ca_pathlen_0(ca):
    bc = ext(ca, x509.BasicConstraints)
    assert bc.critical
    assert bc.value.ca is True
    assert bc.value.path_length == 0


def test_ca_key_usage_critical_cert_and_crl_sign_only(ca):
    ku = ext(ca, x509.KeyUsage)
    assert ku.critical
    v = ku.value
    assert v.key_cert_sign and v.crl_sign
    assert not (v.digital_signature or v.content_commitment or v.key_encipherment
                or v.data_encipherment or v.key_agreement)


def test_ca_subject_key_identifier_is_key_hash(ca):
    ski = ext(ca, x509.SubjectKeyIdentifier).value
    assert ski.digest == x509.SubjectKeyIdentifier.from_public_key(ca.public_key()).digest


def test_ca_names_chat_local_ca(ca):
    cn = ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn.startswith("E2EE Chat local CA (")


def test_ca_valid_ten_years(ca):
    assert abs(validity(ca) - timedelta(days=CA_DAYS)) <= SLACK


def test_server_is_x509_v3(server):
    assert server.version == x509.Version.v3


def test_server_key_is_ecdsa_p384(server, stack_dir):
    assert isinstance(server.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(server.public_key().curve, ec.SECP384R1)
    key = load_key(stack_dir / "server.key")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP384R1)


def test_server_key_file_belongs_to_server_certificate(server, stack_dir):
    assert public_der(load_key(stack_dir / "server.key")) == public_der(server)


def test_server_signature_is_ecdsa_sha384(server):
    assert server.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA384
    assert isinstance(server.signature_hash_algorithm, hashes.SHA384)


def test_server_is_signed_by_ca(server, ca):
    assert signed_by(server, ca)


def test_server_basic_constraints_critical_not_ca(server):
    bc = ext(server, x509.BasicConstraints)
    assert bc.critical
    assert bc.value.ca is False


def test_server_key_usage_critical_digital_signature_only(server):
    ku = ext(server, x509.KeyUsage)
    assert ku.critical
    v = ku.value
    assert v.digital_signature
    assert not (v.content_commitment or v.key_encipherment or v.data_encipherment
                or v.key_agreement or v.key_cert_sign or v.crl_sign)


def test_server_extended_key_usage_is_server_auth_only(server):
    assert list(ext(server, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_server_subject_key_identifier_is_key_hash(server):
    ski = ext(server, x509.SubjectKeyIdentifier).value
    assert ski.digest == x509.SubjectKeyIdentifier.from_public_key(server.public_key()).digest


def test_server_authority_key_identifier_is_ca_ski(server, ca):
    aki = ext(server, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ext(ca, x509.SubjectKeyIdentifier).value.digest


def test_server_san_is_localhost_loopback_and_host_name(server):
    assert san_of(server) == expected_san(expected_host())


def test_server_common_name_is_localhost(server):
    cn = server.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert [a.value for a in cn] == ["localhost"]


def test_server_valid_90_days(server):
    assert abs(validity(server) - timedelta(days=SERVER_DAYS)) <= SLACK


def test_server_certificate_is_in_date(server):
    now = datetime.utcnow()
    assert server.not_valid_before <= now + SLACK
    assert server.not_valid_after > now


def test_served_certificate_is_server_crt(stack_dir, server):
    base = os.environ.get("CHAT_BASE_URL")
    if not base:
        pytest.skip("CHAT_BASE_URL is not set (no running stack)")
    if not os.environ.get("CHAT_CERTS_DIR"):
        pytest.fail("CHAT_BASE_URL is set but CHAT_CERTS_DIR is not: cannot tell which "
                    "server.crt the stack serves")
    url = urlsplit(base)
    ctx = ssl.create_default_context(cafile=str(stack_dir / "ca.crt"))
    with socket.create_connection((url.hostname, url.port or 443), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            served = tls.getpeercert(binary_form=True)
    assert served == server.public_bytes(serialization.Encoding.DER)


# --- mkcerts.sh ------------------------------------------------------------------------

def test_mkcerts_makes_private_directory_and_keys(tmp_path):
    out = tmp_path / "certs"
    mkcerts(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for name in ("ca.key", "server.key"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name
    for name in ("ca.crt", "server.crt"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o644, name
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)


def test_mkcerts_keys_are_not_readable_by_others_after_renewal(tmp_path):
    mkcerts(tmp_path, CHAT_HOSTNAME="one.example.test")
    mkcerts(tmp_path, CHAT_HOSTNAME="two.example.test")
    for path in tmp_path.iterdir():
        mode = stat.S_IMODE(path.stat().st_mode)
        assert not mode & stat.S_IWOTH, path
        if path.suffix == ".key":
            assert mode == 0o600, path


def test_mkcerts_second_run_changes_nothing(tmp_path):
    mkcerts(tmp_path)
    before = snapshot(tmp_path)
    line = mkcerts(tmp_path)
    assert snapshot(tmp_path) == before
    assert "up to date" in line


def test_mkcerts_honours_cert_days(tmp_path):
    mkcerts(tmp_path, CERT_DAYS="30")
    assert abs(validity(load_cert(tmp_path / "server.crt")) - timedelta(days=30)) <= SLACK


def test_mkcerts_renews_certificate_expiring_within_a_week(tmp_path):
    mkcerts(tmp_path, CERT_DAYS="3")
    ca_before = (tmp_path / "ca.crt").read_bytes()
    old = load_cert(tmp_path / "server.crt")
    old_key = (tmp_path / "server.key").read_bytes()
    mkcerts(tmp_path)
    new = load_cert(tmp_path / "server.crt")
    assert new.serial_number != old.serial_number
    assert abs(validity(new) - timedelta(days=SERVER_DAYS)) <= SLACK
    assert (tmp_path / "server.key").read_bytes() != old_key
    assert public_der(load_key(tmp_path / "server.key")) == public_der(new)
    assert (tmp_path / "ca.crt").read_bytes() == ca_before


def test_mkcerts_keeps_certificate_with_more_than_a_week_left(tmp_path):
    mkcerts(tmp_path, CERT_DAYS="8")
    before = snapshot(tmp_path)
    mkcerts(tmp_path, CERT_DAYS="8")
    assert snapshot(tmp_path) == before


def test_mkcerts_renews_on_host_name_change(tmp_path):
    mkcerts(tmp_path, CHAT_HOSTNAME="one.example.test")
    ca_before = (tmp_path / "ca.crt").read_bytes()
    old = load_cert(tmp_path / "server.crt")
    assert san_of(old) == expected_san("one.example.test")
    mkcerts(tmp_path, CHAT_HOSTNAME="two.example.test")
    new = load_cert(tmp_path / "server.crt")
    assert san_of(new) == expected_san("two.example.test")
    assert new.serial_number != old.serial_number
    assert (tmp_path / "ca.crt").read_bytes() == ca_before


def test_mkcerts_uses_machine_host_name_by_default(tmp_path):
    mkcerts(tmp_path)
    assert san_of(load_cert(tmp_path / "server.crt")) == expected_san(socket.gethostname().lower())


def test_mkcerts_does_not_repeat_localhost(tmp_path):
    mkcerts(tmp_path, CHAT_HOSTNAME="LocalHost")
    san = ext(load_cert(tmp_path / "server.crt"), x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]


def test_mkcerts_renews_certificate_not_signed_by_current_ca(tmp_path):
    mine, other = tmp_path / "mine", tmp_path / "other"
    mkcerts(mine)
    mkcerts(other)
    for name in ("ca.key", "ca.crt"):
        shutil.copy2(other / name, mine / name)
    old = load_cert(mine / "server.crt")
    mkcerts(mine)
    new_ca, new = load_cert(mine / "ca.crt"), load_cert(mine / "server.crt")
    assert new_ca == load_cert(other / "ca.crt")
    assert new.serial_number != old.serial_number
    assert signed_by(new, new_ca)


def test_mkcerts_remakes_missing_ca_and_its_server_certificate(tmp_path):
    mkcerts(tmp_path)
    old_ca, old = load_cert(tmp_path / "ca.crt"), load_cert(tmp_path / "server.crt")
    (tmp_path / "ca.key").unlink()
    mkcerts(tmp_path)
    new_ca, new = load_cert(tmp_path / "ca.crt"), load_cert(tmp_path / "server.crt")
    assert public_der(new_ca) != public_der(old_ca)
    assert public_der(load_key(tmp_path / "ca.key")) == public_der(new_ca)
    assert new.serial_number != old.serial_number
    assert signed_by(new, new_ca)


def test_mkcerts_remakes_ca_that_expires_before_a_new_certificate(tmp_path):
    mkcerts(tmp_path, CA_DAYS="100")
    old_ca = load_cert(tmp_path / "ca.crt")
    mkcerts(tmp_path, CERT_DAYS="120")
    new_ca, new = load_cert(tmp_path / "ca.crt"), load_cert(tmp_path / "server.crt")
    assert new_ca.serial_number != old_ca.serial_number
    assert abs(validity(new_ca) - timedelta(days=CA_DAYS)) <= SLACK
    assert signed_by(new, new_ca)


def test_mkcerts_replaces_key_that_does_not_match(tmp_path):
    mkcerts(tmp_path)
    stray = ec.generate_private_key(ec.SECP384R1())
    (tmp_path / "server.key").write_bytes(stray.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    mkcerts(tmp_path)
    assert (public_der(load_key(tmp_path / "server.key"))
            == public_der(load_cert(tmp_path / "server.crt")))
    assert public_der(stray) != public_der(load_cert(tmp_path / "server.crt"))


@pytest.mark.parametrize("host", ["evil.example.test, DNS:other.test", "-bad.example",
                                  "a b", "bad_name.example"])
def test_mkcerts_refuses_bad_host_name(tmp_path, host):
    r = run_mkcerts(tmp_path / "out", CHAT_HOSTNAME=host)
    assert r.returncode != 0
    assert "CHAT_HOSTNAME" in r.stderr
    assert not (tmp_path / "out" / "server.crt").exists()


@pytest.mark.parametrize("days", ["abc", "0", "-5", "12x"])
def test_mkcerts_refuses_bad_cert_days(tmp_path, days):
    r = run_mkcerts(tmp_path / "out", CERT_DAYS=days)
    assert r.returncode != 0
    assert "CERT_DAYS" in r.stderr
    assert not (tmp_path / "out" / "server.crt").exists()
