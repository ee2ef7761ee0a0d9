"""scrywatch.toml -> msgspec Structs, with SCRYWATCH_<SECTION>_<KEY> environment overrides.

This is the only module that reads configuration. Every key has a default, so an empty file (or
no file) is a working configuration; an unknown key is an error that names it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import msgspec

from scrywatch.errors import ConfigError

ENV_PREFIX = "SCRYWATCH_"


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = 8080
    # Public URL of this server (e.g. https://logs.example.com); used in alert links and for the
    # same-origin check behind a proxy. Empty: derived from each request's Host header.
    base_url: str = ""


class AuthConfig(_Section):
    session_hours: float = 24.0
    open_registration: bool = False
    login_max_failures: int = 10
    login_window_minutes: int = 15
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4


class IngestConfig(_Section):
    max_batch_events: int = 1000
    max_body_bytes: int = 5 * 1024 * 1024
    max_message_bytes: int = 32 * 1024
    max_metadata_bytes: int = 64 * 1024
    # Events waiting for the writer; beyond this, ingest answers 503 with Retry-After.
    queue_max_events: int = 20_000  # ~2 s of writes here; each queued event holds ~1 KB (RSS budget)


class StorageConfig(_Section):
    hot_hours: int = 24
    archive_days: int = 30
    archive_grace_minutes: int = 5
    max_disk_mb: int = 0
    summary_days: int = 7
    reader_connections: int = 3
    # Most events the writer puts in one transaction (group commit).
    writer_batch_events: int = 2000


class TailConfig(_Section):
    ring_size: int = 5000
    heartbeat_seconds: float = 15.0
    subscriber_queue: int = 10_000


class TracesConfig(_Section):
    hold_seconds: int = 60
    slow_ms: int = 2000
    baseline_ratio: float = 0.0
    retention_hours: int = 24


class AlertsConfig(_Section):
    check_interval_seconds: int = 30
    delivery_attempts: int = 3
    delivery_timeout_seconds: float = 10.0
    delivery_backoff_seconds: float = 1.0
    notify_on_resolve: bool = False


class SmtpConfig(_Section, rename={"from_address": "from"}):
    host: str = ""
    port: int = 25
    username: str = ""
    password: str = ""
    from_address: str = "scrywatch@localhost"
    starttls: bool = False
    ssl: bool = False
    timeout_seconds: float = 10.0


class AiConfig(_Section):
    provider: str = "builtin"
    base_url: str = ""
    model: str = ""
    api_key: str = ""
    timeout_seconds: float = 20.0
    fallback: bool = True


class JobsConfig(_Section):
    # Periodic background jobs inside `scrywatch serve`; `scrywatch jobs run NAME` works either way.
    enabled: bool = True
    archive_interval_seconds: int = 60
    retention_interval_seconds: int = 600
    sampling_interval_seconds: int = 10
    patterns_interval_seconds: int = 300


class Config(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    data_dir: str = "./data"
    server: ServerConfig = msgspec.field(default_factory=ServerConfig)
    auth: AuthConfig = msgspec.field(default_factory=AuthConfig)
    ingest: IngestConfig = msgspec.field(default_factory=IngestConfig)
    storage: StorageConfig = msgspec.field(default_factory=StorageConfig)
    tail: TailConfig = msgspec.field(default_factory=TailConfig)
    traces: TracesConfig = msgspec.field(default_factory=TracesConfig)
    alerts: AlertsConfig = msgspec.field(default_factory=AlertsConfig)
    smtp: SmtpConfig = msgspec.field(default_factory=SmtpConfig)
    ai: AiConfig = msgspec.field(default_factory=AiConfig)
    jobs: JobsConfig = msgspec.field(default_factory=JobsConfig)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def db_path(self) -> Path:
        return self.data_path / "scrywatch.db"

    @property
    def archive_path(self) -> Path:
        return self.data_path / "archive"


def section_types() -> dict[str, type[_Section]]:
    """Section name -> its Struct, in declaration order."""
    return {f.name: f.type for f in msgspec.structs.fields(Config) if f.name != "data_dir"}


def section_keys(section: type[_Section]) -> list[str]:
    """The TOML key names of a section, in declaration order."""
    return [f.encode_name for f in msgspec.structs.fields(section)]


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    sections = section_types()
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        if rest == "data_dir":
            raw["data_dir"] = value
            continue
        for section_name, section in sections.items():
            prefix = section_name + "_"
            if rest.startswith(prefix):
                key = rest[len(prefix) :]
                if key not in section_keys(section):
                    raise ConfigError(f"unknown setting {name} (no key {key!r} in [{section_name}])")
                raw.setdefault(section_name, {})[key] = value
                break
        else:
            if rest.split("_", 1)[0] in {"config"}:
                continue  # SCRYWATCH_CONFIG names the file, it is not a setting
            raise ConfigError(f"unknown setting {name}")
    return raw


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _decode(raw: dict[str, Any], *, strict: bool) -> Config:
    try:
        return msgspec.convert(raw, Config, strict=strict)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {_describe(exc)}") from exc


def _describe(exc: msgspec.ValidationError) -> str:
    # msgspec says "Object contains unknown field `x` - at `$.server`"; make the key path readable.
    text = str(exc)
    return text.replace("`$.", "`").replace("`$`", "top level")


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Read scrywatch.toml (if given), apply SCRYWATCH_* variables, then explicit overrides."""
    env = dict(os.environ if environ is None else environ)
    file_raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            file_raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {p}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    # File values keep their TOML types (strict); environment values are strings and are coerced.
    file_cfg = _decode(file_raw, strict=True)
    env_raw = _env_overrides(env)
    raw = _merge(msgspec.to_builtins(file_cfg), env_raw)
    config = _decode(raw, strict=False)
    if overrides:
        config = _decode(_merge(msgspec.to_builtins(config), overrides), strict=True)
    _check(config)
    return config


def _check(config: Config) -> None:
    """Value rules msgspec types cannot say."""
    positive = {
        "ingest.max_batch_events": config.ingest.max_batch_events,
        "ingest.max_body_bytes": config.ingest.max_body_bytes,
        "ingest.queue_max_events": config.ingest.queue_max_events,
        "auth.session_hours": config.auth.session_hours,
        # Zero would throttle every sign-in (and crash the throttle); argon2 refuses zero costs.
        "auth.login_max_failures": config.auth.login_max_failures,
        "auth.login_window_minutes": config.auth.login_window_minutes,
        "auth.argon2_time_cost": config.auth.argon2_time_cost,
        "auth.argon2_parallelism": config.auth.argon2_parallelism,
        "storage.hot_hours": config.storage.hot_hours,
        "storage.reader_connections": config.storage.reader_connections,
        "tail.ring_size": config.tail.ring_size,
        # Zero would send heartbeats in a busy loop / drop every tail subscriber at its first event.
        "tail.heartbeat_seconds": config.tail.heartbeat_seconds,
        "tail.subscriber_queue": config.tail.subscriber_queue,
    }
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(f"invalid configuration: `{key}` must be greater than 0")
    # 0 has a meaning here (keep forever, no grace, no cap); a negative value is a typo.
    for key, value in {"storage.archive_days": config.storage.archive_days,
                       "storage.archive_grace_minutes": config.storage.archive_grace_minutes,
                       "storage.max_disk_mb": config.storage.max_disk_mb,
                       "storage.summary_days": config.storage.summary_days}.items():
        if value < 0:
            raise ConfigError(f"invalid configuration: `{key}` must not be negative")
    if config.auth.argon2_memory_kib < 8 * config.auth.argon2_parallelism:
        raise ConfigError("invalid configuration: `auth.argon2_memory_kib` must be at least "
                          "8 times `auth.argon2_parallelism`")
    if not 0.0 <= config.traces.baseline_ratio <= 1.0:
        raise ConfigError("invalid configuration: `traces.baseline_ratio` must be between 0 and 1")
    if config.ai.provider not in ("builtin", "openai"):
        raise ConfigError("invalid configuration: `ai.provider` must be builtin or openai")
    if not 0 <= config.server.port <= 65535:
        raise ConfigError("invalid configuration: `server.port` must be between 0 and 65535")
