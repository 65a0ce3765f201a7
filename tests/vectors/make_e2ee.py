"""Makes tests/vectors/e2ee.json: fixed inputs of the design §4 protocol,
version 2, and every intermediate and output value, computed here with
Python's cryptography package, a third implementation beside
static/js/e2ee.js (checked by tests/js) and tests/vectors/check_e2ee.c
(OpenSSL). The private scalars are fixed test values, never used anywhere
else.

"messages" are version 2: each plaintext a frame of fixed-order JSON
{"v":2,"kind":K,"time":T,"seen":[e,c],"body":B} (JSON.stringify's form: no
spaces, UTF-8 unescaped), sealed with the AAD "CHAT_MSG2_USER<S>to<R>"; a
rekey is message number c of its epoch with its own IV, mac under the old
K_mac and mac2 under the new one. "legacy_v1" are the version 1 vectors of
stored history (AAD "CHAT_MSG_USER<S>to<R>", raw plaintexts, the rekey the
bytes "change" in clear under the previous IV), unchanged from version 1.
The two lists reuse keys and IVs: test values only, never a real pattern.
Run: python3 tests/vectors/make_e2ee.py > tests/vectors/e2ee.json"""
import base64
import hashlib
import hmac
import json

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

T0 = 1700000000000	# the frames' sealed times: ms since 1970, one second apart


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def user(uid, d):
    k = ec.derive_private_key(d, ec.SECP384R1())
    n = k.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-384", "x": b64u(n.x.to_bytes(48, "big")), "y": b64u(n.y.to_bytes(48, "big"))}
    return k, {"id": uid, "key_id": uid * 10, "jwk": jwk, "private_jwk": {**jwk, "d": b64u(d.to_bytes(48, "big"))}}


def hkdf(z, epoch, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epoch.to_bytes(8, "big"), info=info.encode()).derive(z)


def keys(z, s, r, epoch):
    return {"epoch": epoch, "from": s, "to": r, "info_enc": f"CHAT_KEY_USER{s}to{r}",
            "info_mac": f"CHAT_MAC_USER{s}to{r}", "salt": epoch.to_bytes(8, "big").hex(),
            "enc": hkdf(z, epoch, f"CHAT_KEY_USER{s}to{r}").hex(), "mac": hkdf(z, epoch, f"CHAT_MAC_USER{s}to{r}").hex()}


def iv_for(counter):
    return bytes(4) + counter.to_bytes(8, "big")


def aad_for(s, r, version):
    return (f"CHAT_MSG_USER{s}to{r}" if version == 1 else f"CHAT_MSG2_USER{s}to{r}").encode()


def hmac256(key_hex, data):
    return hmac.new(bytes.fromhex(key_hex), data, hashlib.sha256).digest()


def sealed(z, s, r, epoch, counter, plaintext, version):
    """iv, ct, mac of message `counter` of direction s -> r; checks that the
    other version's AAD does not open it."""
    k = keys(z, s, r, epoch)
    iv = iv_for(counter)
    gcm = AESGCM(bytes.fromhex(k["enc"]))
    ct = gcm.encrypt(iv, plaintext, aad_for(s, r, version))
    assert gcm.decrypt(iv, ct, aad_for(s, r, version)) == plaintext
    try:
        gcm.decrypt(iv, ct, aad_for(s, r, 3 - version))
        raise AssertionError("a ciphertext opens under the other version's AAD")
    except InvalidTag:
        pass
    return iv, ct, hmac256(k["mac"], iv + ct)


# --- version 2 ------------------------------------------------------------------------


def frame(kind, time, seen, body):
    """The plaintext: JSON.stringify({v, kind, time, seen, body}) as UTF-8."""
    return json.dumps({"v": 2, "kind": kind, "time": time, "seen": seen, "body": body},
                      separators=(",", ":"), ensure_ascii=False).encode()


def message(z, s, r, epoch, counter, kind, time, seen, body):
    pt = frame(kind, time, seen, body)
    iv, ct, mac = sealed(z, s, r, epoch, counter, pt, 2)
    out = {"version": 2, "kind": kind, "from": s, "to": r, "epoch": epoch, "counter": counter, "time": time,
           "seen": seen, "body": body, "frame": pt.decode(), "plaintext": pt.hex(), "aad": aad_for(s, r, 2).decode(),
           "iv": iv.hex(), "ciphertext": ct.hex(), "mac": mac.hex()}
    if kind == "rekey":
        assert body == {"to": epoch + 1}
        out["mac2"] = hmac256(keys(z, s, r, epoch + 1)["mac"], iv + ct).hex()
    return out


# --- version 1 (stored history) ----------------------------------------------------------


def message_v1(z, s, r, epoch, counter, kind, plaintext):
    iv, ct, mac = sealed(z, s, r, epoch, counter, plaintext, 1)
    return {"version": 1, "kind": kind, "from": s, "to": r, "epoch": epoch, "counter": counter,
            "plaintext": plaintext.hex(), "aad": aad_for(s, r, 1).decode(), "iv": iv.hex(), "ciphertext": ct.hex(),
            "mac": mac.hex()}


def rekey_v1(z, s, r, epoch, counter):
    old, new = keys(z, s, r, epoch), keys(z, s, r, epoch + 1)
    iv, ct = iv_for(counter - 1), b"change"
    return {"version": 1, "kind": "rekey", "from": s, "to": r, "epoch": epoch, "counter": counter,
            "plaintext": ct.hex(), "iv": iv.hex(), "ciphertext": ct.hex(),
            "mac": hmac256(old["mac"], iv + ct).hex(), "mac2": hmac256(new["mac"], iv + ct).hex()}


def safety_half(uid, jwk):
    pt = b"\x04" + base64.urlsafe_b64decode(jwk["x"] + "==") + base64.urlsafe_b64decode(jwk["y"] + "==")
    h = hashlib.sha256(b"CHAT_SAFETY_V1" + uid.to_bytes(8, "big") + pt).digest()
    return [f"{int.from_bytes(h[i:i + 5], 'big') % 100000:05d}" for i in range(0, 30, 5)]


def main():
    ka, a = user(7, 0x1f2e3d4c5b6a79880011223344556677_8899aabbccddeeff0123456789abcdef_0fedcba987654321)
    kb, b = user(12, 0x0badc0ffee15600d_cafef00dfeedfacedeadbeef01020304_05060708090a0b0c0d0e0f1011121314)
    z = ka.exchange(ec.ECDH(), kb.public_key())
    assert z == kb.exchange(ec.ECDH(), ka.public_key())
    A, B = a["id"], b["id"]
    t = lambda n: T0 + 1000 * n  # noqa: E731
    # A conversation: A announces and writes, B answers (having received
    # A's 1 and 2) and sends a read receipt, A writes an empty text, B one
    # with characters JSON escapes, A refreshes the keys and writes on.
    msgs = [
        message(z, A, B, 1, 1, "ecdh", t(0), [1, 0], {"key_id": a["key_id"], "jwk": a["jwk"]}),
        message(z, A, B, 1, 2, "text", t(1), [1, 0], "Hello, Bob! Grüße 👋"),
        message(z, B, A, 1, 1, "text", t(2), [1, 2], "Hi Alice"),
        message(z, B, A, 1, 2, "receipt", t(3), [1, 2], {"read": [1, 2]}),
        message(z, A, B, 1, 3, "text", t(4), [1, 2], ""),
        message(z, B, A, 1, 3, "text", t(5), [1, 3], 'She said "hi"\n\tC:\\tmp </b> ✓'),
        message(z, A, B, 1, 4, "rekey", t(6), [1, 3], {"to": 2}),
        message(z, A, B, 2, 1, "text", t(7), [1, 3], "after the rekey"),
    ]
    ann = json.dumps({"key_id": a["key_id"], "jwk": a["jwk"]}, separators=(",", ":")).encode()
    legacy = [
        message_v1(z, A, B, 1, 1, "ecdh", ann),
        message_v1(z, A, B, 1, 2, "text", "Hello, Bob! Grüße 👋".encode()),
        message_v1(z, B, A, 1, 1, "text", b"Hi Alice"),
        message_v1(z, A, B, 1, 3, "text", b""),
        rekey_v1(z, A, B, 1, 4),
        message_v1(z, A, B, 2, 1, "text", b"after the rekey"),
    ]
    sa, sb = safety_half(A, a["jwk"]), safety_half(B, b["jwk"])
    out = {
        "version": 2,
        "about": "design §4 vectors, protocol version 2 (messages) and version 1 (legacy_v1, stored history); "
                 "made by tests/vectors/make_e2ee.py (Python cryptography)",
        "users": [a, b],
        "shared_secret": z.hex(),
        "keys": [keys(z, A, B, 1), keys(z, B, A, 1), keys(z, A, B, 2), keys(z, B, A, 2)],
        "messages": msgs,
        "legacy_v1": legacy,
        "safety_number": " ".join(sa + sb if A < B else sb + sa),
    }
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
