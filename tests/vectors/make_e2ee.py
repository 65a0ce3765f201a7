"""Makes tests/vectors/e2ee.json: fixed inputs of the design §4 protocol and
every intermediate and output value, computed here with Python's
cryptography package, a third implementation beside static/js/e2ee.js
(checked by tests/js) and tests/vectors/check_e2ee.c (OpenSSL). The private
scalars are fixed test values, never used anywhere else.
Run: python3 tests/vectors/make_e2ee.py > tests/vectors/e2ee.json"""
import base64
import hashlib
import hmac
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


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


def message(z, s, r, epoch, counter, kind, plaintext):
    k = keys(z, s, r, epoch)
    iv = iv_for(counter)
    aad = f"CHAT_MSG_USER{s}to{r}".encode()
    ct = AESGCM(bytes.fromhex(k["enc"])).encrypt(iv, plaintext, aad)
    mac = hmac.new(bytes.fromhex(k["mac"]), iv + ct, hashlib.sha256).digest()
    return {"kind": kind, "from": s, "to": r, "epoch": epoch, "counter": counter, "plaintext": plaintext.hex(),
            "aad": aad.decode(), "iv": iv.hex(), "ciphertext": ct.hex(), "mac": mac.hex()}


def rekey(z, s, r, epoch, counter):
    old, new = keys(z, s, r, epoch), keys(z, s, r, epoch + 1)
    iv, ct = iv_for(counter - 1), b"change"
    return {"kind": "rekey", "from": s, "to": r, "epoch": epoch, "counter": counter, "plaintext": ct.hex(),
            "iv": iv.hex(), "ciphertext": ct.hex(),
            "mac": hmac.new(bytes.fromhex(old["mac"]), iv + ct, hashlib.sha256).hexdigest(),
            "mac2": hmac.new(bytes.fromhex(new["mac"]), iv + ct, hashlib.sha256).hexdigest()}


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
    ann = json.dumps({"key_id": a["key_id"], "jwk": a["jwk"]}, separators=(",", ":")).encode()
    msgs = [
        message(z, A, B, 1, 1, "ecdh", ann),
        message(z, A, B, 1, 2, "text", "Hello, Bob! Grüße 👋".encode()),
        message(z, B, A, 1, 1, "text", b"Hi Alice"),
        message(z, A, B, 1, 3, "text", b""),
        rekey(z, A, B, 1, 4),
        message(z, A, B, 2, 1, "text", b"after the rekey"),
    ]
    sa, sb = safety_half(A, a["jwk"]), safety_half(B, b["jwk"])
    out = {
        "about": "design §4 vectors; made by tests/vectors/make_e2ee.py (Python cryptography)",
        "users": [a, b],
        "shared_secret": z.hex(),
        "keys": [keys(z, A, B, 1), keys(z, B, A, 1), keys(z, A, B, 2), keys(z, B, A, 2)],
        "messages": msgs,
        "safety_number": " ".join(sa + sb if A < B else sb + sa),
    }
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
