"""The built-in secret rules and allow-rules, with stable IDs.

A :class:`Rule` is a bytes regex plus lowercase ``keywords``: the scanner runs the regex only
when one keyword occurs in the lowercased file (a cheap ``bytes.find``), and, when
``context`` is set, only when all context words occur too. ``secret`` names the regex group
holding the credential (the part that is redacted, entropy-checked and allow-listed).
Patterns follow the token formats the vendors document (prefixes, lengths, checksums).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lockgate.detect.secrets import checks
from lockgate.findings.model import Severity

Validator = Callable[[bytes], bool]


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of credential."""

    id: str
    title: str
    severity: Severity
    pattern: bytes
    """The regular expression (bytes); a group named ``secret`` marks the secret itself."""
    keywords: tuple[bytes, ...]
    """Lowercase; at least one must occur in the lowercased content for the regex to run."""
    context: tuple[bytes, ...] = ()
    """Lowercase words that must all occur in the file as well (e.g. ``"auths"``)."""
    min_entropy: float = 0.0
    """Shannon bits per byte the secret must reach (for loose patterns)."""
    validate: Validator | None = None
    """Format check (checksum, decodable JSON ...) the secret must pass."""
    path: re.Pattern[str] | None = None
    """Only files whose path matches (``search``)."""
    placeholder_check: bool = False
    """Drop values that look like placeholders (``${VAR}``, ``<password>``, ``changeme`` ...)."""
    category: str = ""
    multiline: bool = False
    """The match may continue past the line holding the keyword (PEM bodies)."""
    hint: bool = True
    """Show a short prefix of the secret in findings (False for free-form passwords)."""
    flags: int = 0

    @property
    def regex(self) -> re.Pattern[bytes]:
        """The compiled pattern, compiled on first use.

        Compiling all built-in rules costs ~20 ms, paid by every scan that only checks an image
        config or is answered from the layer cache; most rules never see a keyword hit there.
        """
        key = (self.pattern, self.flags)
        compiled = _COMPILED.get(key)
        if compiled is None:
            compiled = _COMPILED[key] = re.compile(self.pattern, self.flags)
        return compiled


_COMPILED: dict[tuple[bytes, int], re.Pattern[bytes]] = {}


@dataclass(frozen=True, slots=True)
class AllowRule:
    """A known non-secret: by path, by secret value, or both (all given parts must match)."""

    id: str
    description: str
    path: re.Pattern[str] | None = None
    secret: re.Pattern[bytes] | None = None
    rules: tuple[str, ...] = ()
    """Rule ids this applies to; empty means every rule."""
    contains: tuple[str, ...] = ()
    """Optional speed hint: the path must contain one of these for ``path`` to be tried."""

    def allows(self, rule_id: str, path: str, secret: bytes) -> bool:
        if self.rules and rule_id not in self.rules:
            return False
        if self.path is None and self.secret is None:
            return False
        if self.path is not None and not self.path.search(path):
            return False
        return not (self.secret is not None and not self.secret.search(secret))


def _rule(
    id: str,
    title: str,
    severity: Severity,
    pattern: str,
    keywords: tuple[str, ...],
    *,
    category: str,
    context: tuple[str, ...] = (),
    min_entropy: float = 0.0,
    validate: Validator | None = None,
    path: str | None = None,
    placeholder_check: bool = False,
    multiline: bool = False,
    hint: bool = True,
    flags: int = 0,
) -> Rule:
    return Rule(
        id=id,
        title=title,
        severity=severity,
        pattern=pattern.encode(),
        flags=flags,
        keywords=tuple(k.lower().encode() for k in keywords),
        context=tuple(c.lower().encode() for c in context),
        min_entropy=min_entropy,
        validate=validate,
        path=re.compile(path) if path else None,
        placeholder_check=placeholder_check,
        category=category,
        multiline=multiline,
        hint=hint,
    )


C, H, M = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM
_END = r"(?![A-Za-z0-9_])"
_Q = r"""["']?"""
_PEM_BODY = r"(?P<secret>(?:[A-Za-z0-9+/=\r\n\t :,]++|-(?!----))++)"
"""Base64 body with optional RFC 1421 headers. Possessive, and unable to cross a ``-----``
boundary, so a BEGIN line without its END costs one linear pass (no backtracking)."""


def _pem_body_ok(body: bytes) -> bool:
    return len(body.strip()) >= 64


def _ppk_body_ok(body: bytes) -> bool:
    return len(body.strip()) >= 40


def _pem(id: str, title: str, label: str, severity: Severity = C) -> Rule:
    return _rule(
        id,
        title,
        severity,
        rf"-----BEGIN {label}-----\s*{_PEM_BODY}\s*-----END {label}-----",
        (f"begin {label}-----",),
        category="private-key",
        validate=_pem_body_ok,
        multiline=True,
    )


BUILTIN_RULES: tuple[Rule, ...] = (
    # --- cloud providers -----------------------------------------------------------------
    _rule(
        "aws-access-key-id",
        "AWS access key ID",
        C,
        r"(?<![A-Z0-9])(?P<secret>(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})(?![A-Z0-9])",
        ("akia", "asia", "abia", "acca", "a3t"),
        category="AWS",
    ),
    _rule(
        "aws-secret-access-key",
        "AWS secret access key",
        C,
        r"(?i)(?:aws)?_?secret_?(?:access)?_?key(?:_id)?"
        + _Q
        + r"\s*(?::|=>?)\s*"
        + _Q
        + r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        ("secret_access_key", "secretaccesskey", "secret-access-key", "aws_secret_key", "secret_key"),
        min_entropy=3.5,
        category="AWS",
    ),
    _rule(
        "aws-session-token",
        "AWS session token",
        H,
        r"(?i)(?:aws)?_?session_?token" + _Q + r"\s*(?::|=>?)\s*" + _Q + r"(?P<secret>[A-Za-z0-9/+=]{100,2048})",
        ("session_token", "sessiontoken"),
        min_entropy=4.0,
        category="AWS",
    ),
    _rule(
        "gcp-service-account-key",
        "GCP service account private key",
        C,
        r'"private_key"\s*:\s*"(?P<secret>-----BEGIN PRIVATE KEY-----[A-Za-z0-9+/=\\]{64,}-----END PRIVATE KEY-----)',
        ('"private_key"',),
        context=("service_account",),
        category="GCP",
    ),
    _rule("gcp-api-key", "Google API key", H, r"(?P<secret>AIza[0-9A-Za-z_\-]{35})" + _END, ("aiza",), category="GCP"),
    _rule(
        "gcp-oauth-client-secret",
        "Google OAuth client secret",
        H,
        r"(?P<secret>GOCSPX-[A-Za-z0-9_\-]{28})" + _END,
        ("gocspx-",),
        category="GCP",
    ),
    _rule(
        "azure-storage-account-key",
        "Azure storage account key",
        C,
        r"(?i)AccountKey=(?P<secret>[A-Za-z0-9+/]{86}==)",
        ("accountkey=",),
        category="Azure",
    ),
    _rule(
        "azure-sas-token",
        "Azure shared access signature",
        H,
        r"[?&]sig=(?P<secret>[A-Za-z0-9%+/]{40,100}(?:%3D|=))",
        ("sig=",),
        context=("sv=", "se="),
        category="Azure",
    ),
    _rule(
        "azure-ad-client-secret",
        "Azure AD application client secret",
        C,
        r"(?<![A-Za-z0-9_~.\-])(?P<secret>[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?![A-Za-z0-9_~.\-])",
        ("q~",),
        min_entropy=3.5,
        category="Azure",
    ),
    _rule(
        "alibaba-access-key-id",
        "Alibaba Cloud AccessKey ID",
        H,
        r"(?<![A-Za-z0-9])(?P<secret>LTAI[A-Za-z0-9]{20})" + _END,
        ("ltai",),
        min_entropy=3.0,
        category="Alibaba",
    ),
    _rule(
        "digitalocean-token",
        "DigitalOcean token",
        C,
        r"(?P<secret>do[opr]_v1_[a-f0-9]{64})" + _END,
        ("dop_v1_", "doo_v1_", "dor_v1_"),
        category="DigitalOcean",
    ),
    # --- source hosting and CI ---------------------------------------------------------
    _rule(
        "github-pat",
        "GitHub personal access token",
        C,
        r"(?<![A-Za-z0-9_])(?P<secret>ghp_[A-Za-z0-9]{36})" + _END,
        ("ghp_",),
        validate=checks.github_checksum_ok,
        category="GitHub",
    ),
    _rule(
        "github-oauth-token",
        "GitHub OAuth access token",
        C,
        r"(?<![A-Za-z0-9_])(?P<secret>gho_[A-Za-z0-9]{36})" + _END,
        ("gho_",),
        validate=checks.github_checksum_ok,
        category="GitHub",
    ),
    _rule(
        "github-app-token",
        "GitHub App token",
        C,
        r"(?<![A-Za-z0-9_])(?P<secret>gh[us]_[A-Za-z0-9]{36})" + _END,
        ("ghu_", "ghs_"),
        validate=checks.github_checksum_ok,
        category="GitHub",
    ),
    _rule(
        "github-refresh-token",
        "GitHub refresh token",
        C,
        r"(?<![A-Za-z0-9_])(?P<secret>ghr_[A-Za-z0-9]{36})" + _END,
        ("ghr_",),
        validate=checks.github_checksum_ok,
        category="GitHub",
    ),
    _rule(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token",
        C,
        r"(?P<secret>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})" + _END,
        ("github_pat_",),
        category="GitHub",
    ),
    _rule(
        "gitlab-pat",
        "GitLab personal access token",
        C,
        r"(?P<secret>glpat-[A-Za-z0-9_\-]{20})" + _END,
        ("glpat-",),
        min_entropy=3.0,
        category="GitLab",
    ),
    _rule(
        "gitlab-runner-token",
        "GitLab runner authentication token",
        C,
        r"(?P<secret>glrt-[A-Za-z0-9_\-]{20})" + _END,
        ("glrt-",),
        min_entropy=3.0,
        category="GitLab",
    ),
    _rule(
        "gitlab-pipeline-trigger-token",
        "GitLab pipeline trigger token",
        H,
        r"(?P<secret>glptt-[0-9a-f]{40})" + _END,
        ("glptt-",),
        category="GitLab",
    ),
    _rule(
        "gitlab-deploy-token",
        "GitLab deploy token",
        H,
        r"(?P<secret>gldt-[A-Za-z0-9_\-]{20})" + _END,
        ("gldt-",),
        min_entropy=3.0,
        category="GitLab",
    ),
    # --- chat, payments, SaaS ------------------------------------------------------------
    _rule(
        "slack-bot-token",
        "Slack bot token",
        H,
        r"(?P<secret>xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24})" + _END,
        ("xoxb-",),
        category="Slack",
    ),
    _rule(
        "slack-user-token",
        "Slack user token",
        H,
        r"(?P<secret>xox[pe]-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[a-f0-9]{32})" + _END,
        ("xoxp-", "xoxe-"),
        category="Slack",
    ),
    _rule(
        "slack-app-token",
        "Slack app-level token",
        H,
        r"(?P<secret>xapp-\d-[A-Z0-9]{9,12}-\d{10,13}-[a-f0-9]{64})" + _END,
        ("xapp-",),
        category="Slack",
    ),
    _rule(
        "slack-webhook-url",
        "Slack incoming webhook URL",
        M,
        r"hooks\.slack\.com/(?:services|workflows)/(?P<secret>T[A-Z0-9]{8,12}/[AB][A-Z0-9]{8,12}/[A-Za-z0-9]{24})",
        ("hooks.slack.com",),
        category="Slack",
    ),
    _rule(
        "stripe-secret-key",
        "Stripe live secret key",
        C,
        r"(?P<secret>(?:sk|rk)_live_[0-9A-Za-z]{24,99})" + _END,
        ("sk_live_", "rk_live_"),
        category="Stripe",
    ),
    _rule(
        "sendgrid-api-key",
        "SendGrid API key",
        H,
        r"(?P<secret>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})" + _END,
        ("sg.",),
        category="SendGrid",
    ),
    _rule(
        "twilio-api-key",
        "Twilio API key",
        H,
        r"(?<![A-Za-z0-9])(?P<secret>SK[0-9a-f]{32})" + _END,
        ("sk",),
        context=("twilio",),
        category="Twilio",
    ),
    _rule(
        "shopify-token",
        "Shopify access token",
        H,
        r"(?P<secret>shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})" + _END,
        ("shpat_", "shpca_", "shppa_", "shpss_"),
        category="Shopify",
    ),
    _rule(
        "huggingface-token",
        "Hugging Face access token",
        H,
        r"(?<![A-Za-z0-9_])(?P<secret>hf_[A-Za-z]{34})" + _END,
        ("hf_",),
        min_entropy=3.5,
        category="HuggingFace",
    ),
    _rule(
        "openai-api-key",
        "OpenAI API key",
        C,
        r"(?P<secret>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,74}T3BlbkFJ[A-Za-z0-9_\-]{20,74})" + _END,
        ("t3blbkfj",),
        category="OpenAI",
    ),
    _rule(
        "anthropic-api-key",
        "Anthropic API key",
        C,
        r"(?P<secret>sk-ant-(?:api03|admin01)-[A-Za-z0-9_\-]{93}AA)" + _END,
        ("sk-ant-",),
        category="Anthropic",
    ),
    _rule(
        "hashicorp-vault-token",
        "HashiCorp Vault service token",
        H,
        r"(?P<secret>hv[sb]\.[A-Za-z0-9_\-]{90,120})" + _END,
        ("hvs.", "hvb."),
        category="HashiCorp",
    ),
    _rule(
        "terraform-cloud-token",
        "Terraform Cloud API token",
        H,
        r"(?P<secret>[a-zA-Z0-9]{14}\.atlasv1\.[a-zA-Z0-9_=\-]{60,70})" + _END,
        ("atlasv1",),
        category="HashiCorp",
    ),
    _rule(
        "databricks-token",
        "Databricks API token",
        H,
        r"(?<![A-Za-z0-9])(?P<secret>dapi[a-f0-9]{32}(?:-\d)?)" + _END,
        ("dapi",),
        min_entropy=3.0,
        category="Databricks",
    ),
    _rule(
        "age-secret-key",
        "age encryption secret key",
        C,
        r"(?P<secret>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})",
        ("age-secret-key-1",),
        category="age",
    ),
    # --- package registries ----------------------------------------------------------------
    _rule(
        "npm-access-token",
        "npm access token",
        C,
        r"(?<![A-Za-z0-9_])(?P<secret>npm_[A-Za-z0-9]{36})" + _END,
        ("npm_",),
        min_entropy=3.5,
        category="npm",
    ),
    _rule(
        "npmrc-auth-token",
        "npm registry credential in .npmrc",
        C,
        r"(?m)^\s*(?://[^\s=]*:)?_(?:authToken|auth|password)\s*=\s*(?P<secret>[^\s$\{][^\s]{7,})",
        ("_authtoken", "_auth", "_password"),
        path=r"(^|/)\.?npmrc$",
        placeholder_check=True,
        hint=False,
        category="npm",
    ),
    _rule(
        "pypi-upload-token",
        "PyPI upload token",
        C,
        r"(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,1000})",
        ("pypi-ageichlwas5vcmc",),
        category="PyPI",
    ),
    _rule(
        "dockerhub-pat",
        "Docker Hub personal access token",
        C,
        r"(?P<secret>dckr_pat_[A-Za-z0-9_\-]{27})" + _END,
        ("dckr_pat_",),
        category="Docker",
    ),
    _rule(
        "docker-config-auth",
        "Registry credential in Docker config.json",
        C,
        r'"auth"\s*:\s*"(?P<secret>[A-Za-z0-9+/]{6,}={0,2})"',
        ('"auth"',),
        context=('"auths"',),
        validate=checks.basic_auth_ok,
        category="Docker",
    ),
    # --- keys --------------------------------------------------------------------------------
    _pem("private-key-rsa", "RSA private key", "RSA PRIVATE KEY"),
    _pem("private-key-ec", "EC private key", "EC PRIVATE KEY"),
    _pem("private-key-dsa", "DSA private key", "DSA PRIVATE KEY"),
    _pem("private-key-openssh", "OpenSSH private key", "OPENSSH PRIVATE KEY"),
    _pem("private-key-pkcs8", "PKCS#8 private key", "PRIVATE KEY"),
    _pem("private-key-encrypted", "Encrypted PKCS#8 private key", "ENCRYPTED PRIVATE KEY", H),
    _pem("private-key-pgp", "PGP private key block", "PGP PRIVATE KEY BLOCK"),
    # gpg-agent's extended key format (private-keys-v1.d/*.key); the canonical binary form is
    # recognised by keyfiles.py under the same ids
    _rule(
        "private-key-gpg-agent",
        "gpg-agent private key",
        C,
        r"(?m)^Key: \(private-key \((?P<secret>[a-z]+ [^\n]{8,})",
        ("key: (private-key",),
        category="private-key",
        hint=False,
    ),
    _rule(
        "private-key-gpg-agent-protected",
        "gpg-agent private key (passphrase-protected)",
        H,
        r"(?m)^Key: \(protected-private-key \((?P<secret>[a-z]+ [^\n]{8,})",
        ("key: (protected-private-key",),
        category="private-key",
        hint=False,
    ),
    _rule(
        "private-key-cosign",
        "Encrypted cosign/Sigstore private key",
        H,
        r"-----BEGIN ENCRYPTED (?:COSIGN|SIGSTORE) PRIVATE KEY-----\s*"
        + _PEM_BODY
        + r"\s*-----END ENCRYPTED (?:COSIGN|SIGSTORE) PRIVATE KEY-----",
        ("begin encrypted cosign private key-----", "begin encrypted sigstore private key-----"),
        category="private-key",
        validate=_pem_body_ok,
        multiline=True,
    ),
    _rule(
        "private-key-putty",
        "PuTTY private key",
        C,
        r"PuTTY-User-Key-File-[23]:[^\r\n]*+\r?\n(?:[^\r\n]*+\r?\n){1,40}?Private-Lines:[ \t]*+\d++\r?\n"
        r"(?P<secret>(?:[A-Za-z0-9+/=]++\r?\n)++)Private-MAC:",
        ("putty-user-key-file-",),
        validate=_ppk_body_ok,
        category="private-key",
        multiline=True,
    ),
    # --- structured credentials ----------------------------------------------------------------
    _rule(
        "jwt-token",
        "JSON Web Token",
        M,
        r"(?<![A-Za-z0-9_\-])(?P<secret>eyJ[A-Za-z0-9_\-]{10,4096}\.eyJ[A-Za-z0-9_\-]{10,8192}\.[A-Za-z0-9_\-]{16,1024})"
        + _END,
        ("eyj",),
        validate=checks.jwt_ok,
        category="JWT",
    ),
    _rule(
        "url-basic-auth",
        "Credentials in URL",
        H,
        r"://(?P<user>[A-Za-z0-9._~%!$&'()*+,;=\-]{1,64}):(?P<secret>[A-Za-z0-9._~%!$&'()*+,;=\-]{3,128})@"
        r"[A-Za-z0-9.\-]{1,253}",
        ("://",),
        placeholder_check=True,
        min_entropy=2.0,
        hint=False,
        category="URL",
    ),
    _rule(
        "netrc-password",
        "Password in .netrc",
        H,
        r"(?<!\S)password\s+(?P<secret>\S{3,})",
        ("password",),
        path=r"(^|/)[._]netrc$",
        placeholder_check=True,
        multiline=True,
        hint=False,
        category="netrc",
    ),
    _rule(
        "kubeconfig-client-key",
        "Client key embedded in kubeconfig",
        C,
        r"client-key-data:\s*" + _Q + r"(?P<secret>[A-Za-z0-9+/=]{40,})",
        ("client-key-data:",),
        context=("clusters:",),
        category="Kubernetes",
    ),
    _rule(
        "kubeconfig-token",
        "Bearer token embedded in kubeconfig",
        C,
        r"(?m)^\s+token:\s*" + _Q + r"(?P<secret>[A-Za-z0-9._\-~+/]{20,4096}=*)",
        ("token:",),
        context=("clusters:", "users:"),
        placeholder_check=True,
        category="Kubernetes",
    ),
    _rule(
        "kubeconfig-password",
        "Password embedded in kubeconfig",
        H,
        r"(?m)^\s+password:\s*" + _Q + r"(?P<secret>[^\s\"']{3,256})",
        ("password:",),
        context=("clusters:", "users:"),
        placeholder_check=True,
        hint=False,
        category="Kubernetes",
    ),
)
"""The built-in rules (stable ids; never renumber)."""


def _allow(
    id: str,
    description: str,
    *,
    path: str = "",
    value: str = "",
    rules: tuple[str, ...] = (),
    contains: tuple[str, ...] = (),
) -> AllowRule:
    return AllowRule(
        id=id,
        description=description,
        path=re.compile(path) if path else None,
        secret=re.compile(value.encode()) if value else None,
        rules=rules,
        contains=contains,
    )


_PKG_TREES = ("site-packages/", "dist-packages/", "node_modules/", "gems/", "vendor/", "pkg/mod/")


BUILTIN_ALLOW: tuple[AllowRule, ...] = (
    _allow("aws-docs-examples", "AWS documentation example keys", value=r"EXAMPLE"),
    _allow(
        "jwt-io-example",
        "The jwt.io sample token",
        value=r"^eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ\.",
    ),
    _allow(
        "package-test-fixtures",
        "Test data shipped inside installed language packages",
        path=r"(^|/)(site-packages|dist-packages|node_modules|gems|vendor|pkg/mod)/(.*/)?"
        r"(tests?|testdata|test_data|fixtures|__tests__|spec|examples?)/",
        contains=_PKG_TREES,
    ),
    _allow(
        "language-runtime-tests",
        "Test suites of language runtimes (Go, Python, Ruby, OpenJDK)",
        path=r"(^|/)(usr/local/go|usr/lib/go[\-0-9.]*|usr/lib/python[23][.\d]*|usr/local/lib/python[23][.\d]*)"
        r"/(.*/)?(test|tests|testdata)/",
        contains=("go/", "go-", "python"),
    ),
    _allow(
        "package-docs",
        "Documentation shipped inside installed language packages (README, METADATA, changelogs)",
        path=r"(^|/)(site-packages|dist-packages|node_modules|gems)/(.*/)?"
        r"(README|CHANGELOG|CHANGES|HISTORY|METADATA|PKG-INFO)([._-][^/]*)?$",
        contains=_PKG_TREES,
    ),
    _allow(
        "percent-encoded-url-example",
        "Docstring URLs whose credentials are percent-encoded examples",
        value=r"^[A-Za-z0-9]{0,3}%[0-9A-Fa-f]{2}",
        rules=("url-basic-auth",),
    ),
    _allow("documentation", "Documentation trees", path=r"^usr/(share|local/share)/(doc|man|info|gtk-doc)/"),
)
"""Built-in allow-rules for well-known, public test fixtures and examples."""

PLACEHOLDER = re.compile(
    rb"(?i)^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^>]*>|%[A-Za-z_]+%|\{\{.*\}\}|x{3,}|\*{3,}|\.{3,}|"
    rb"(?:your|my|some)[_\-]?\w*|changeme|change[_\-]?me|password|passw(?:or)?d|pass|secret|"
    rb"example|dummy|redacted|placeholder|token|null|none|true|false)$"
)
"""Values that are obviously not real secrets (used by rules with ``placeholder_check``)."""
