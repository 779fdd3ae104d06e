# ruff: noqa: E501
"""A labelled set of real-format credentials (true positives) and look-alikes (false positives).

Everything is generated at test time: keys with ``cryptography``/``ssh-keygen``/``gpg``,
tokens from random characters in each vendor's documented format (GitHub tokens with their
CRC32 checksum, JWTs signed with HMAC, PuTTY PPK v3 per PuTTY's documented file format), so
no secret, real or fake, is stored in the repository.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
import string
import struct
import subprocess
import tempfile
import urllib.parse
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

ALNUM = string.ascii_letters + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def rnd(n: int, alphabet: str = ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


@dataclass(frozen=True)
class Sample:
    """One file: ``rule`` is the rule id expected to fire (None: nothing may fire)."""

    name: str
    path: str
    content: bytes
    rule: str | None
    secret: str = ""
    """The credential itself (redaction tests check it never appears in output)."""
    line: int = 0
    """Expected start line of the finding (0: not checked)."""


def b62(value: int) -> str:
    out = ""
    while value:
        value, r = divmod(value, 62)
        out = B62[r] + out
    return out.rjust(6, "0")


def github_token(prefix: str, valid: bool = True) -> str:
    body = rnd(30)
    crc = zlib.crc32(body.encode())
    return prefix + body + b62(crc if valid else (crc + 1) & 0xFFFFFFFF)


def _pem(
    key: object, fmt: serialization.PrivateFormat, enc: serialization.KeySerializationEncryption | None = None
) -> str:
    return key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, fmt, enc or serialization.NoEncryption()
    ).decode()


def _ssh_keygen() -> str:
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/k"], check=True)
        return Path(d, "k").read_text()


def _gpg_private() -> str:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "GNUPGHOME": home}
        subprocess.run(
            ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
             "lockgate-test <t@example.invalid>", "ed25519", "sign", "never"],
            check=True, capture_output=True, env=env,
        )  # fmt: skip
        out = subprocess.run(
            ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--armor",
             "--export-secret-keys", "t@example.invalid"],
            check=True, capture_output=True, env=env,
        )  # fmt: skip
        return out.stdout.decode()


def gpg_agent_keys() -> tuple[bytes, bytes]:
    """The agent's key files (``private-keys-v1.d/*.key``, extended format): unprotected, protected.

    Bytes: the format is line-based text, but quoted S-expression strings may hold 8-bit bytes.
    """
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "GNUPGHOME": home}
        for pw, uid in (("", "open <o@example.invalid>"), ("pw", "prot <p@example.invalid>")):
            subprocess.run(
                ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", pw, "--quick-gen-key", uid,
                 "ed25519", "sign", "never"],
                check=True, capture_output=True, env=env,
            )  # fmt: skip
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], check=False, capture_output=True, env=env)
        files = [p.read_bytes() for p in sorted(Path(home, "private-keys-v1.d").glob("*.key"))]
    plain = next(t for t in files if b"Key: (private-key " in t)
    protected = next(t for t in files if b"Key: (protected-private-key " in t)
    return plain, protected


def _ssh_str(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def putty_ppk_v3() -> tuple[str, str]:
    """An unencrypted PPK v3 Ed25519 key (PuTTY manual, appendix C); returns (file, private lines)."""
    key = ed25519.Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    priv = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    alg, comment = b"ssh-ed25519", b"lockgate-test"
    pub_blob = _ssh_str(alg) + _ssh_str(pub)
    priv_blob = _ssh_str(priv)
    mac_data = _ssh_str(alg) + _ssh_str(b"none") + _ssh_str(comment) + _ssh_str(pub_blob) + _ssh_str(priv_blob)
    mac = hmac.new(b"", mac_data, hashlib.sha256).hexdigest()

    def lines(b: bytes) -> list[str]:
        t = base64.b64encode(b).decode()
        return [t[i : i + 64] for i in range(0, len(t), 64)]

    pl, sl = lines(pub_blob), lines(priv_blob)
    text = "\n".join(
        ["PuTTY-User-Key-File-3: ssh-ed25519", "Encryption: none", "Comment: lockgate-test",
         f"Public-Lines: {len(pl)}", *pl, f"Private-Lines: {len(sl)}", *sl, f"Private-MAC: {mac}", ""]
    )  # fmt: skip
    return text, "\n".join(sl)


def cosign_key() -> str:
    """An encrypted cosign key: PKCS#8 EC key sealed with scrypt + NaCl secretbox, base64 JSON in PEM."""
    import nacl.secret

    der = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    salt, nonce = os.urandom(32), os.urandom(24)
    key = hashlib.scrypt(b"pw", salt=salt, n=32768, r=8, p=1, dklen=32, maxmem=64 * 1024 * 1024)
    sealed = nacl.secret.SecretBox(key).encrypt(der, nonce).ciphertext
    env = {
        "kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(sealed).decode(),
    }
    body = base64.b64encode(json.dumps(env).encode()).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join(
        ["-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", *lines, "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----", ""]
    )


def jwt(payload: dict[str, object], alg: str = "HS256") -> str:
    def enc(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    head = enc(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = enc(json.dumps(payload).encode())
    sig = enc(hmac.new(os.urandom(32), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def self_signed_cert() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lockgate-test")])
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return cert.public_bytes(serialization.Encoding.PEM).decode(), pub.decode()


@functools.cache
def true_positives() -> tuple[Sample, ...]:
    """At least one sample per built-in rule, each in the format its vendor documents."""
    out: list[Sample] = []

    def add(name: str, path: str, text: str, rule: str, secret: str) -> None:
        line = text[: text.index(secret)].count("\n") + 1
        out.append(Sample(name, path, text.encode(), rule, secret, line))

    akid = "AKIA" + rnd(16, string.ascii_uppercase + "234567")
    sak = base64.b64encode(os.urandom(30)).decode()
    add("aws-id", "root/.aws/credentials", f"[default]\naws_access_key_id = {akid}\n", "aws-access-key-id", akid)
    add("aws-secret", "app/settings.py", f'AWS_SECRET_ACCESS_KEY = "{sak}"\n', "aws-secret-access-key", sak)
    tok = base64.b64encode(os.urandom(180)).decode()
    add("aws-session", "app/env.sh", f"export AWS_SESSION_TOKEN={tok}\n", "aws-session-token", tok)
    rsa_pk = rsa.generate_private_key(65537, 2048)
    pk8 = _pem(rsa_pk, serialization.PrivateFormat.PKCS8)
    sa = {
        "type": "service_account", "project_id": "p", "private_key_id": rnd(40, HEX), "private_key": pk8,
        "client_email": "x@p.iam.gserviceaccount.com", "client_id": "1",
    }  # fmt: skip
    sa_text = json.dumps(sa, indent=2)
    add("gcp-sa", "app/sa.json", sa_text, "gcp-service-account-key", json.dumps(pk8)[1:40])
    k = "AIza" + rnd(35, ALNUM + "_-")
    add("gcp-api", "app/config.js", f'const apiKey = "{k}";\n', "gcp-api-key", k)
    k = "GOCSPX-" + rnd(28, ALNUM + "_-")
    add("gcp-oauth", "app/client.json", f'{{"client_secret": "{k}"}}\n', "gcp-oauth-client-secret", k)
    k = base64.b64encode(os.urandom(64)).decode()
    add("azure-storage", "app/appsettings.json",
        f'{{"Storage": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={k};EndpointSuffix=core.windows.net"}}\n',
        "azure-storage-account-key", k)  # fmt: skip
    sig = urllib.parse.quote(base64.b64encode(os.urandom(32)).decode(), safe="")
    add("azure-sas", "app/blob.txt",
        f"https://acct.blob.core.windows.net/c/f?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig={sig}\n",
        "azure-sas-token", sig)  # fmt: skip
    k = rnd(3) + "8Q~" + rnd(34, ALNUM + "_~.-")
    add("azure-ad", "app/.env", f"AZURE_CLIENT_SECRET={k}\n", "azure-ad-client-secret", k)
    k = "LTAI" + rnd(20)
    add("alibaba", "app/aliyun.ini", f"access_key_id = {k}\n", "alibaba-access-key-id", k)
    k = "dop_v1_" + rnd(64, HEX)
    add("digitalocean", "root/.config/doctl/config.yaml", f"access-token: {k}\n", "digitalocean-token", k)
    for rid, prefix in [("github-pat", "ghp_"), ("github-oauth-token", "gho_"), ("github-app-token", "ghs_"),
                        ("github-refresh-token", "ghr_")]:  # fmt: skip
        k = github_token(prefix)
        add(rid, "root/.config/gh/hosts.yml", f"github.com:\n    oauth_token: {k}\n", rid, k)
    k = "github_pat_" + rnd(22) + "_" + rnd(59)
    add("github-fg", "app/.env", f"GH_TOKEN={k}\n", "github-fine-grained-pat", k)
    for rid, prefix in [("gitlab-pat", "glpat-"), ("gitlab-runner-token", "glrt-"), ("gitlab-deploy-token", "gldt-")]:
        k = prefix + rnd(20, ALNUM + "_-")
        add(rid, "etc/gitlab-runner/config.toml", f'token = "{k}"\n', rid, k)
    k = "glptt-" + rnd(40, HEX)
    add(
        "gitlab-trigger",
        "app/ci.sh",
        f"curl -F token={k} https://gitlab.example/api\n",
        "gitlab-pipeline-trigger-token",
        k,
    )
    k = f"xoxb-{rnd(11, string.digits)}-{rnd(12, string.digits)}-{rnd(24)}"
    add("slack-bot", "app/slack.py", f'SLACK_BOT = "{k}"\n', "slack-bot-token", k)
    k = f"xoxp-{rnd(11, string.digits)}-{rnd(11, string.digits)}-{rnd(12, string.digits)}-{rnd(32, HEX)}"
    add("slack-user", "app/slack.py", f'SLACK_USER = "{k}"\n', "slack-user-token", k)
    k = f"xapp-1-A{rnd(10, UPPER_ALNUM)}-{rnd(13, string.digits)}-{rnd(64, HEX)}"
    add("slack-app", "app/slack.py", f'SLACK_APP = "{k}"\n', "slack-app-token", k)
    k = f"T{rnd(10, UPPER_ALNUM)}/B{rnd(10, UPPER_ALNUM)}/{rnd(24)}"
    add("slack-hook", "app/notify.sh", f"curl -X POST https://hooks.slack.com/services/{k} -d @msg.json\n",
        "slack-webhook-url", k)  # fmt: skip
    k = "sk_live_" + rnd(48)
    add("stripe", "app/pay.rb", f"Stripe.api_key = '{k}'\n", "stripe-secret-key", k)
    k = f"SG.{rnd(22, ALNUM + '_-')}.{rnd(43, ALNUM + '_-')}"
    add("sendgrid", "app/mail.py", f'SENDGRID_API_KEY = "{k}"\n', "sendgrid-api-key", k)
    k = "SK" + rnd(32, HEX)
    add("twilio", "app/sms.py", f'import twilio\nTWILIO_API_KEY = "{k}"\n', "twilio-api-key", k)
    k = "shpat_" + rnd(32, HEX)
    add("shopify", "app/shop.env", f"SHOPIFY_TOKEN={k}\n", "shopify-token", k)
    k = "hf_" + rnd(34, string.ascii_letters)
    add("huggingface", "root/.cache/huggingface/token", f"{k}\n", "huggingface-token", k)
    k = "sk-proj-" + rnd(40, ALNUM + "_-") + "T3BlbkFJ" + rnd(40, ALNUM + "_-")
    add("openai", "app/.env", f"OPENAI_API_KEY={k}\n", "openai-api-key", k)
    k = "sk-ant-api03-" + rnd(93, ALNUM + "_-") + "AA"
    add("anthropic", "app/.env", f"ANTHROPIC_API_KEY={k}\n", "anthropic-api-key", k)
    k = "hvs." + rnd(91, ALNUM + "_-")
    add("vault", "root/.vault-token", f"{k}\n", "hashicorp-vault-token", k)
    k = rnd(14, string.ascii_lowercase + string.digits) + ".atlasv1." + rnd(67, ALNUM)
    add("terraform", "root/.terraform.d/credentials.tfrc.json",
        f'{{"credentials": {{"app.terraform.io": {{"token": "{k}"}}}}}}\n', "terraform-cloud-token", k)  # fmt: skip
    k = "dapi" + rnd(32, HEX)
    add("databricks", "root/.databrickscfg", f"[DEFAULT]\ntoken = {k}\n", "databricks-token", k)
    k = "AGE-SECRET-KEY-1" + rnd(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")
    add("age", "root/.config/sops/age/keys.txt", f"# created: 2026-01-01\n{k}\n", "age-secret-key", k)
    k = "npm_" + rnd(36)
    add("npm", "app/publish.sh", f"NPM_TOKEN={k} npm publish\n", "npm-access-token", k)
    k = base64.b64encode(os.urandom(24)).decode()
    add(
        "npmrc", "root/.npmrc", f"registry=https://npm.example/\n//npm.example/:_authToken={k}\n", "npmrc-auth-token", k
    )
    k = "pypi-AgEIcHlwaS5vcmc" + rnd(120, ALNUM + "_-")
    add("pypi", "root/.pypirc", f"[pypi]\nusername = __token__\npassword = {k}\n", "pypi-upload-token", k)
    k = "dckr_pat_" + rnd(27, ALNUM + "_-")
    add("dockerhub", "app/login.sh", f"echo {k} | docker login -u bob --password-stdin\n", "dockerhub-pat", k)
    k = base64.b64encode(f"bob:{rnd(20)}".encode()).decode()
    add("docker-config", "root/.docker/config.json",
        json.dumps({"auths": {"registry.example.com": {"auth": k}}}, indent=1), "docker-config-auth", k)  # fmt: skip
    ec_pk = ec.generate_private_key(ec.SECP256R1())
    dsa_pk = dsa.generate_private_key(2048)
    trad = serialization.PrivateFormat.TraditionalOpenSSL
    for rid, text in [
        ("private-key-rsa", _pem(rsa_pk, trad)),
        ("private-key-ec", _pem(ec_pk, trad)),
        ("private-key-dsa", _pem(dsa_pk, trad)),
        ("private-key-openssh", _ssh_keygen()),
        ("private-key-pkcs8", _pem(ec_pk, serialization.PrivateFormat.PKCS8)),
        ("private-key-encrypted", _pem(ec_pk, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(b"pw"))),
        ("private-key-pgp", _gpg_private()),
    ]:  # fmt: skip
        body_line = text.splitlines()[1] if not text.startswith("-----BEGIN PGP") else text.splitlines()[2]
        add(rid, f"etc/keys/{rid}.pem", "# key\n" + text, rid, body_line[:40] or text.splitlines()[3][:40])
    for rid, data in zip(("private-key-gpg-agent", "private-key-gpg-agent-protected"), gpg_agent_keys(), strict=True):
        key_line = next(line for line in data.split(b"\n") if line.startswith(b"Key: ("))
        secret = key_line.split(b" (", 2)[2][:30]
        line = data[: data.index(secret)].count(b"\n") + 1
        out.append(Sample(rid, "root/.gnupg/private-keys-v1.d/0123.key", data, rid, secret.decode(), line))
    ck = cosign_key()
    add("cosign", "app/cosign.key", ck, "private-key-cosign", ck.splitlines()[1][:40])
    ppk, lines = putty_ppk_v3()
    add("putty", "home/u/key.ppk", ppk, "private-key-putty", lines.splitlines()[0][:40])
    t = jwt({"sub": str(uuid.uuid4()), "role": "admin", "iat": 1700000000})
    add("jwt", "app/token.txt", f"Authorization: Bearer {t}\n", "jwt-token", t)
    pw = rnd(16)
    add("url-auth", "app/db.conf", f"DATABASE_URL=postgres://app:{pw}@db.internal:5432/app\n", "url-basic-auth", pw)
    pw = rnd(14)
    add("netrc", "root/.netrc", f"machine api.example.com\n  login bob\n  password {pw}\n", "netrc-password", pw)
    ckd = base64.b64encode(_pem(ec_pk, trad).encode()).decode()
    kube = "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://k8s:6443\n  name: c\nusers:\n- name: u\n  user:\n"
    add("kube-key", "root/.kube/config", kube + f"    client-key-data: {ckd}\n", "kubeconfig-client-key", ckd[:60])
    k = rnd(48, ALNUM + "._-")
    add("kube-token", "root/.kube/config", kube + f"    token: {k}\n", "kubeconfig-token", k)
    pw = rnd(18)
    add(
        "kube-pass", "root/.kube/config", kube + f"    username: admin\n    password: {pw}\n", "kubeconfig-password", pw
    )
    return tuple(out)


def false_positives() -> list[Sample]:
    """Look-alikes that must not be reported: docs examples, placeholders, public material, bad checksums."""
    cert, pub = self_signed_cert()
    ssh_pub = "ssh-ed25519 " + base64.b64encode(_ssh_str(b"ssh-ed25519") + _ssh_str(os.urandom(32))).decode() + " u@h"
    items = [
        ("aws-docs", "app/README.txt",
         "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
        ("aws-low-entropy", "app/conf.ini", "aws_secret_access_key = " + "a" * 40 + "\n"),
        ("github-bad-checksum", "app/x.txt", f"token: {github_token('ghp_', valid=False)}\n"),
        ("url-placeholders", "app/docs.txt",
         "postgres://user:${DB_PASSWORD}@db:5432/app\nhttps://user:password@example.com/\n"
         "https://<user>:<pass>@host/\nf'{scheme}://{user}:{password}@{host}'\nssh://git@host:22/repo\n"),
        ("pem-truncated", "app/docs.md", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----\n"),
        ("public-material", "etc/ssl/certs/test.pem", cert + pub + ssh_pub + "\n"),
        ("jwt-io", "app/auth.md",
         "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
         ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n"),
        ("jwt-no-alg", "app/j.txt",
         base64.urlsafe_b64encode(b'{"typ":"JWT","nota":1}').decode().rstrip("=") + "."
         + base64.urlsafe_b64encode(b'{"sub":"12345678901234"}').decode().rstrip("=") + "." + rnd(43) + "\n"),
        ("docker-credstore", "root/.docker/config.json",
         json.dumps({"auths": {"registry.example.com": {}}, "credsStore": "desktop"})),
        ("docker-auth-not-basic", "root/.docker/config.json",
         json.dumps({"auths": {"r.example.com": {"auth": base64.b64encode(b"nocolon").decode()}}})),
        ("npmrc-env", "root/.npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"),
        ("netrc-env", "root/.netrc", "machine h login u password ${NETRC_PASSWORD}\n"),
        ("kube-exec", "root/.kube/config",
         "apiVersion: v1\nclusters:\n- name: c\nusers:\n- name: u\n  user:\n    token: <token>\n    exec:\n      command: aws\n"),
        ("digests", "app/lock.txt",
         "\n".join(f"sha256:{hashlib.sha256(os.urandom(8)).hexdigest()} {uuid.uuid4()}" for _ in range(50)) + "\n"),
        ("base64-blob", "app/logo.b64", base64.b64encode(os.urandom(3000)).decode() + "\n"),
        ("stripe-test", "app/pay.rb", f"Stripe.api_key = 'sk_test_{rnd(24)}'\n"),
        ("twilio-no-context", "app/ids.txt", "SK" + rnd(32, HEX) + "\n"),
        ("password-prose", "app/help.txt", "Enter your password and secret key to continue.\npassword: changeme\n"),
        ("hex-commits", "app/CHANGES", "\n".join(rnd(40, HEX) + " fix" for _ in range(40)) + "\n"),
    ]  # fmt: skip
    return [Sample(n, p, t.encode(), None) for n, p, t in items]
