"""What the API server's CEL provides, per Kubernetes version, and a check of emitted expressions.

An exported policy must compile in the API server, whose CEL environment is the CEL standard
library plus the libraries `staging/src/k8s.io/apiserver/pkg/cel/environment/base.go` adds at
each Kubernetes version (and the function names `library_compatibility_test.go` pins to
releases). Our engine registers helpers of its own (engine/cel.py: `imageTag`, `globAny`, ...)
that no API server has, so every function and macro an exported expression calls is checked
against this list, and anything else is refused by name.

The check walks the tokens of the expression (a small CEL lexer, also used to rename rule
variables to `variables.X`): an identifier followed by `(` is a call; `a.b(` with `a` a
library namespace (`sets`, `optional`, `strings`, `format`, `ip`, `jsonpatch`) is the
qualified function `a.b`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# (introduced in 1.minor, names). Macros count as functions: they are called like them.
_LIBRARIES: tuple[tuple[int, frozenset[str]], ...] = (
    # CEL standard library: macros, conversions, string and time functions.
    (0, frozenset(
        "has all exists exists_one map filter size int uint double string bytes bool type dyn "
        "duration timestamp matches contains startsWith endsWith getFullYear getMonth getDayOfYear "
        "getDayOfMonth getDate getDayOfWeek getHours getMinutes getSeconds getMilliseconds".split())),
    # ext.Strings(version 0): until 1.28; 1.29 moved to version 2, a superset (see below).
    (0, frozenset("charAt indexOf lastIndexOf lowerAscii upperAscii replace split substring trim join".split())),
    # Kubernetes lists, regex and URL libraries (1.24, counted from CEL's introduction).
    (0, frozenset(
        "isSorted sum min max indexOf lastIndexOf find findAll url isURL getScheme getHost "
        "getHostname getPort getEscapedPath getQuery".split())),
    # Kubernetes authz library.
    (27, frozenset("path group serviceAccount resource subresource namespace name check allowed reason "
                   "errored error".split())),
    # Optional types and the quantity library.
    (28, frozenset(
        "optional.of optional.ofNonZeroValue optional.none hasValue value or orValue optMap optFlatMap "
        "quantity isQuantity sign isGreaterThan isLessThan compareTo add sub asInteger isInteger "
        "asApproximateFloat".split())),
    # ext.Strings(version 2) adds format and quote; ext.Sets.
    (29, frozenset("format strings.quote sets.contains sets.equivalent sets.intersects".split())),
    # IP and CIDR libraries.
    (30, frozenset(
        "ip isIP ip.isCanonical family isUnspecified isLoopback isLinkLocalMulticast isLinkLocalUnicast "
        "isGlobalUnicast cidr isCIDR containsIP containsCIDR masked prefixLength".split())),
    # Format library (and the authz selectors, on by default from 1.32 but gated in 1.31).
    (31, frozenset(
        "validate format.named format.dns1123Label format.dns1123Subdomain format.dns1035Label "
        "format.qualifiedName format.dns1123LabelPrefix format.dns1123SubdomainPrefix "
        "format.dns1035LabelPrefix format.labelValue format.uri format.uuid format.byte format.date "
        "format.datetime".split())),
    (32, frozenset("fieldSelector labelSelector transformList transformMap transformMapEntry existsOne "
                   "jsonpatch.escapeKey".split())),
    # Semver library.
    (33, frozenset("semver isSemver major minor patch".split())),
)

NAMESPACES = frozenset({"sets", "optional", "strings", "format", "ip", "jsonpatch"})
OLDEST, NEWEST = 30, 34  # admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy is GA from 1.30
DEFAULT_VERSION = f"1.{OLDEST}"


def parse_version(text: str) -> int:
    """`1.30` (or `v1.30.2`) → 30; ValueError naming the range we know otherwise."""
    match = re.fullmatch(r"v?1\.(\d+)(?:\.\d+)?", text.strip())
    minor = int(match.group(1)) if match else -1
    if not OLDEST <= minor <= NEWEST:
        raise ValueError(f"Kubernetes version {text!r}: choose 1.{OLDEST} to 1.{NEWEST} "
                         f"(ValidatingAdmissionPolicy v1 is GA from 1.{OLDEST})")
    return minor


def functions_for(minor: int) -> frozenset[str]:
    """Every function and macro the API server of Kubernetes 1.<minor> provides."""
    return frozenset().union(*(names for since, names in _LIBRARIES if since <= minor))


# --- a small CEL lexer --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ident | string | number | punct | space
    text: str


_TOKEN = re.compile(
    r"""(?P<space>\s+|//[^\n]*)
      | (?P<string>[rRbB]{0,2}(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"
                               |'(?:\\.|[^\\'\n])*'|"(?:\\.|[^\\"\n])*"))
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<number>0x[0-9a-fA-F]+u?|\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?u?)
      | (?P<punct>\.\?|&&|\|\||==|!=|<=|>=|[-+*/%!<>?:.,()\[\]{}])""",
    re.VERBOSE | re.DOTALL,
)


def tokens(source: str) -> list[Token]:
    """The expression's tokens, whitespace included, so joining them gives the text back."""
    out: list[Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ValueError(f"unexpected character {source[pos]!r} at {pos}")
        kind = match.lastgroup or "punct"
        out.append(Token(kind, match.group()))
        pos = match.end()
    return out


def _solid(toks: list[Token]) -> list[Token]:
    return [t for t in toks if t.kind != "space"]


def calls(source: str) -> Iterator[str]:
    """Names of the functions and macros the expression calls (qualified where namespaced)."""
    toks = _solid(tokens(source))
    for i, tok in enumerate(toks):
        if tok.kind != "ident" or i + 1 >= len(toks) or toks[i + 1].text != "(":
            continue
        member = i > 0 and toks[i - 1].text in (".", ".?")
        if member and i >= 2 and toks[i - 2].kind == "ident" and toks[i - 2].text in NAMESPACES and not (
                i >= 3 and toks[i - 3].text in (".", ".?")):
            yield f"{toks[i - 2].text}.{tok.text}"
        else:
            yield tok.text


def free_identifiers(source: str) -> set[str]:
    """Identifiers that name a variable (not a field, a call or a literal keyword)."""
    return {toks[i].text for toks in [_solid(tokens(source))] for i in range(len(toks))
            if _is_variable(toks, i)}


_KEYWORDS = frozenset({"true", "false", "null", "in"})


def _is_variable(toks: list[Token], i: int) -> bool:
    tok = toks[i]
    if tok.kind != "ident" or tok.text in _KEYWORDS:
        return False
    if i > 0 and toks[i - 1].text in (".", ".?"):
        return False
    if i + 1 < len(toks) and toks[i + 1].text == "(":
        return False
    return not (i + 1 < len(toks) and toks[i + 1].text == "." and tok.text in NAMESPACES
                and i + 3 < len(toks) and toks[i + 3].text == "(")


def rename(source: str, names: dict[str, str]) -> str:
    """The expression with the variables in `names` replaced by their text (`podSpec` → `variables.podSpec`)."""
    toks = tokens(source)
    solid_index = [i for i, t in enumerate(toks) if t.kind != "space"]
    solid = [toks[i] for i in solid_index]
    out = [t.text for t in toks]
    for j, tok in enumerate(solid):
        if tok.text in names and _is_variable(solid, j):
            out[solid_index[j]] = names[tok.text]
    return "".join(out)


def unavailable(source: str, minor: int) -> list[str]:
    """Functions the expression calls that Kubernetes 1.<minor>'s CEL does not provide."""
    known = functions_for(minor)
    return sorted({name for name in calls(source) if name not in known})
