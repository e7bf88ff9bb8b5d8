"""Signed, opaque imageInsightsTokens.

Shape ``ccid_<signature>*mid_<imageId>[*cp_<customConfig>]``, echoing the
reference's ``ccid_…*mid_…``; the signature is an HMAC-SHA256 (truncated to
128 bits) of the rest under the server's secret, so a forged or altered token
is recognised and refused instead of naming another image.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class TokenClaims:
    image_id: str
    custom_config: str | None = None


SIGNED_KEPT = 65536  # tokens kept per signer: a page signs each of its images again


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the token secret must be at least 16 bytes")
        self._secret = secret
        self._signed: dict[str, str] = {}

    @classmethod
    def from_file(cls, path: Path, *, create: bool = True) -> TokenSigner:
        """Load the server secret, creating it (mode 0600) on first use.

        With create=False nothing is written: a missing secret is replaced by a key
        held in memory, so read-only commands mint tokens (that this process alone
        can verify) without touching the index directory.
        """
        if not create:
            try:
                return cls(path.read_bytes())
            except FileNotFoundError:
                return cls(secrets.token_bytes(32))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # made earlier, or by another worker a moment ago
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
        return cls(path.read_bytes())

    def sign(self, claims: TokenClaims) -> str:
        body = f"mid_{claims.image_id}"
        if claims.custom_config:
            body += f"*cp_{claims.custom_config}"
        token = self._signed.get(body)
        if token is None:
            if len(self._signed) >= SIGNED_KEPT:
                self._signed.clear()
            token = self._signed[body] = f"ccid_{self._mac(body)}*{body}"
        return token

    def verify(self, token: str) -> TokenClaims | None:
        """The claims of a genuine token, or None for anything forged or malformed."""
        head, _, body = token.strip().partition("*")
        if not head.startswith("ccid_") or not body:
            return None
        if not hmac.compare_digest(head[5:], self._mac(body)):
            return None
        fields = dict(part.split("_", 1) for part in body.split("*") if "_" in part)
        image_id = fields.get("mid", "")
        if len(image_id) != 40:
            return None
        return TokenClaims(image_id=image_id, custom_config=fields.get("cp"))

    def _mac(self, body: str) -> str:
        digest = hmac.digest(self._secret, body.encode(), hashlib.sha256)[:16]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
