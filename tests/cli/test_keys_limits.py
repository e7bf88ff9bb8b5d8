"""`pixsearch keys` limits and `pixsearch custom`, as a user runs them."""

from __future__ import annotations

from pathlib import Path

from pixsearch.config import Settings
from pixsearch.tenancy.keys import SqliteKeyStore
from pixsearch.tenancy.state import ServiceDb
from tests.cli.test_cli import pixsearch


def test_keys_carry_limits_and_instances(tmp_path: Path) -> None:
    index = str(tmp_path / "i")
    created = pixsearch(
        "keys", "create", "shop", "--qps", "5", "--monthly-quota", "1000",
        "--instance", "alpha", "--instance", "beta", "--index", index,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    info = SqliteKeyStore(ServiceDb(tmp_path / "i" / "service.db")).get("shop")
    assert info is not None
    assert (info.qps, info.monthly_quota, info.allowed_instances) == (5, 1000, ("alpha", "beta"))
    assert info.may_use("alpha") and not info.may_use("gamma") and not info.may_use(None)
    changed = pixsearch("keys", "limits", "shop", "--no-qps", "--any-instance", "--index", index)
    assert (
        changed.returncode == 0 and "qps -" in changed.stdout and "instances any" in changed.stdout
    )
    info = SqliteKeyStore(ServiceDb(tmp_path / "i" / "service.db")).get("shop")
    assert info is not None and info.qps is None and info.monthly_quota == 1000
    assert info.may_use(None)
    assert pixsearch("keys", "limits", "nobody", "--qps", "1", "--index", index).returncode != 0
    assert pixsearch("keys", "create", "x", "--qps", "0", "--index", index).returncode != 0
    assert "1000" in pixsearch("keys", "list", "--index", index).stdout


def test_admin_key_is_never_shown() -> None:
    settings = Settings.load(admin_key="very-secret-admin")
    assert "very-secret-admin" not in repr(settings)
    assert "very-secret-admin" not in str(settings.describe())
    assert pixsearch("custom", "--help").returncode == 0
    for command in ("create", "update", "delete", "list", "show"):
        assert pixsearch("custom", command, "--help").returncode == 0
    assert pixsearch("keys", "usage", "--help").returncode == 0


def test_custom_cli_checks_preset_parameters_like_a_search(tmp_path: Path) -> None:
    index = str(tmp_path / "i")
    for preset, complaint in (("safeSearch: Sometimes", "safeSearch"), ("mkt: xx-XX", "market")):
        spec = tmp_path / "bad.yaml"
        spec.write_text(f"config_id: bad\ndefaults: {{{preset}}}\n")
        refused = pixsearch("custom", "create", str(spec), "--index", index)
        assert refused.returncode != 0 and complaint in refused.stderr
    spec.write_text("config_id: good\ndefaults: {mkt: en-GB, safeSearch: Strict}\n")
    assert pixsearch("custom", "create", str(spec), "--index", index).returncode == 0
