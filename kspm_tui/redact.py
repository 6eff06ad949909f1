"""What looks like a secret, and how it is masked: one place for evidence, messages, manifest
views and error text (a kubeconfig exec plugin's stderr), below every stage that shows text."""

from __future__ import annotations

import re
from functools import lru_cache

SECRET_KEY = re.compile(r"pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth", re.I)
SECRET_VALUE = re.compile(
    r"(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id (long-term, temporary)
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"  # JWT
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub tokens
    r"|xox[abepr]-[A-Za-z0-9-]{10,}|hooks\.slack\.com/services/[A-Za-z0-9/]{20,}"  # Slack tokens, webhooks
    r"|glpat-[A-Za-z0-9_-]{20}"  # GitLab personal access token
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API key
    r"|(?:sk|rk)_live_[0-9A-Za-z]{20,}"  # Stripe secret keys
    r"|npm_[A-Za-z0-9]{36}"  # npm tokens
    r"|(?i:(?:password|passwd|secret|token)\s*[=:]\s*\S+)"
    r"|[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"  # credentials in a URL
)
# Names that say "secret" but hold a reference, a switch or a location, not the secret itself.
_NOT_SECRET_NAME = re.compile(r"(_|-|\.)(file|path|dir|url|uri|host|port|user(name)?|enabled|mode|type|ttl|timeout|"
                              r"header|method|provider|endpoint|ref|name|key_id|issuer)$", re.I)
_NOT_SECRET_VALUE = re.compile(r"^(true|false|yes|no|on|off|enabled|disabled|none|null|\d+|/.*|\$\(.*\)|\$\{.*\})$",
                                re.I)


def redact_value(value: str) -> str:
    return f"<redacted: {len(value)} chars>"


@lru_cache(maxsize=4096)  # most messages repeat: a rule's fixed text, a few computed variants
def redact_text(text: str) -> str:
    """Mask secret-looking substrings in free text (messages built from object values)."""
    return SECRET_VALUE.sub(lambda m: redact_value(m.group()), text)


def looks_secret(name: str, value: str) -> bool:
    """A literal value that is a credential: it has a secret's shape, or a secret's name and
    a value that is not a switch, number, path or reference (`AUTH_ENABLED=true` is not)."""
    value = str(value)
    if not value.strip():
        return False
    if SECRET_VALUE.search(value):
        return True
    return bool(SECRET_KEY.search(name)) and not _NOT_SECRET_NAME.search(name) \
        and not _NOT_SECRET_VALUE.match(value.strip())
