from __future__ import annotations

import re
import tomllib
from pathlib import Path

import msgspec
import pytest

from scrywatch.config import Config, load_config, section_keys, section_types
from scrywatch.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "scrywatch.toml.example"


def test_example_decodes_to_the_defaults() -> None:
    assert load_config(EXAMPLE, environ={}) == Config()


def test_example_documents_every_key_of_every_section() -> None:
    raw = tomllib.loads(EXAMPLE.read_text())
    assert "data_dir" in raw
    for name, section in section_types().items():
        assert name in raw, f"[{name}] missing from scrywatch.toml.example"
        missing = set(section_keys(section)) - set(raw[name])
        assert not missing, f"[{name}] keys missing from the example: {sorted(missing)}"
        extra = set(raw[name]) - set(section_keys(section))
        assert not extra, f"[{name}] example has keys the config does not know: {sorted(extra)}"


def test_example_comments_every_key() -> None:
    for line in EXAMPLE.read_text().splitlines():
        if re.match(r"^[a-z_]+ = ", line):
            assert "#" in line, f"undocumented key in scrywatch.toml.example: {line}"


def test_unknown_key_is_an_error_naming_it(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("[server]\nprot = 1\n")
    with pytest.raises(ConfigError, match="prot"):
        load_config(p, environ={})
    p.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="colour"):
        load_config(p, environ={})


def test_wrong_type_is_an_error_naming_the_key(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("[ingest]\nmax_batch_events = 'many'\n")
    with pytest.raises(ConfigError, match="max_batch_events"):
        load_config(p, environ={})


def test_environment_overrides_file(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("[server]\nport = 9000\n[auth]\nopen_registration = false\n")
    cfg = load_config(p, environ={"SCRYWATCH_SERVER_PORT": "9100", "SCRYWATCH_AUTH_OPEN_REGISTRATION": "true",
                                  "SCRYWATCH_DATA_DIR": "/tmp/x", "SCRYWATCH_SMTP_FROM": "ops@example.com"})
    assert cfg.server.port == 9100
    assert cfg.auth.open_registration is True
    assert cfg.data_dir == "/tmp/x"
    assert cfg.smtp.from_address == "ops@example.com"


def test_unknown_environment_setting_is_an_error() -> None:
    with pytest.raises(ConfigError, match="SCRYWATCH_SERVER_PROT"):
        load_config(None, environ={"SCRYWATCH_SERVER_PROT": "1"})


def test_bad_environment_value_names_the_key() -> None:
    with pytest.raises(ConfigError, match="port"):
        load_config(None, environ={"SCRYWATCH_SERVER_PORT": "eighty"})


def test_every_key_has_a_default() -> None:
    cfg = load_config(None, environ={})
    for name, section in section_types().items():
        for field in msgspec.structs.fields(section):
            assert field.default is not msgspec.NODEFAULT or field.default_factory is not msgspec.NODEFAULT, (
                f"{name}.{field.name} has no default")
    assert cfg.server.port == 8080 and cfg.server.host == "127.0.0.1" and cfg.data_dir == "./data"
