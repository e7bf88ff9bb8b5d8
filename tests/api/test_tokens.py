from pathlib import Path

from pixsearch.api.tokens import TokenClaims, TokenSigner


def test_tokens_round_trip_and_refuse_forgeries(tmp_path: Path) -> None:
    signer = TokenSigner.from_file(tmp_path / "secret.key")
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    token = signer.sign(TokenClaims(image_id="A" * 40))
    assert token.startswith("ccid_") and "*mid_" + "A" * 40 in token
    assert signer.verify(token) == TokenClaims(image_id="A" * 40)
    assert signer.verify(token.replace("A" * 40, "B" * 40)) is None  # altered image
    assert signer.verify(token[:-1] + "x") is None
    assert signer.verify("ccid_abc*mid_" + "A" * 40) is None
    for junk in ("", "*", "ccid_", "mid_x", "\x00" * 50):
        assert signer.verify(junk) is None
    other = TokenSigner.from_file(tmp_path / "other.key")
    assert other.verify(token) is None  # another server's secret
    assert TokenSigner.from_file(tmp_path / "secret.key").verify(token)  # stable across opens
    scoped = signer.sign(TokenClaims(image_id="C" * 40, custom_config="42"))
    assert signer.verify(scoped) == TokenClaims(image_id="C" * 40, custom_config="42")


def test_kept_tokens_are_the_ones_signed_afresh(tmp_path: Path) -> None:
    signer = TokenSigner.from_file(tmp_path / "secret.key")
    claims = [
        TokenClaims(image_id=f"{i:040X}", custom_config=c) for i in range(40) for c in (None, "7")
    ]
    first = [signer.sign(c) for c in claims]
    again = [signer.sign(c) for c in claims]  # from what the signer kept
    fresh = TokenSigner.from_file(tmp_path / "secret.key")
    assert first == again == [fresh.sign(c) for c in claims]
    assert len(set(first)) == len(claims)  # the configuration is part of what is kept
    assert all(fresh.verify(t) == c for t, c in zip(first, claims, strict=True))
