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
