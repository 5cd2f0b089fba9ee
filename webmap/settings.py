"""Typed settings, read once from the environment (prefix ``RISKMAP_``).

``RISKMAP_DATABASE_URL=postgresql://user@host:port/db`` selects PostGIS; unset, the
embedded store is a single GeoPackage at ``RISKMAP_GPKG_PATH`` (default
``$XDG_DATA_HOME/riskmap/riskmap.gpkg``, i.e. ``~/.local/share/riskmap/riskmap.gpkg``).
Secrets come only from the environment.

Every data file the app reads is found from here: :attr:`Settings.paths` is the only
place a :class:`geo.capabilities.context.DataPaths` is built, and this module the only one
that derives a path from its own location (the default ``data/`` folder next to the
package).  :func:`open_context` builds the context the app and the command line run on.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo.capabilities.cache import Cache
from geo.capabilities.context import Context, DataPaths
from geo.errors import BadInput
from geo.stores import open_store
from geo.stores.protocol import Store

#: The project's ``data/`` folder next to the package: the default ``RISKMAP_DATA_DIR``.
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
#: Shortest session key accepted (characters).
MIN_SECRET_LENGTH = 32


def default_gpkg_path() -> Path:
    """Per-user data file: ``$XDG_DATA_HOME/riskmap/riskmap.gpkg``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "riskmap" / "riskmap.gpkg"


class Settings(BaseSettings):
    """Everything the app and the CLI can be configured with.

    Data files: ``RISKMAP_DATA_DIR`` is always the project's ``data/`` folder (default: the
    one next to the package); the reference geography and the population raster are read
    from its ``reference/``.  ``RISKMAP_RULES_PATH`` (site-veto rule set) and
    ``RISKMAP_AREA_CONFIG_PATH`` (area-risk parameters, weights, GB 18218 chemicals) move
    one file on its own, e.g. to try an edited copy; by default they are inside ``data_dir``.
    ``RISKMAP_ROLES_PATH`` (roles and permissions) likewise, default ``<data_dir>/roles.yaml``.
    ``RISKMAP_CACHE_ENTRIES`` and ``RISKMAP_CACHE_MB`` size the one cache
    (:class:`geo.capabilities.cache.Cache`).

    Serving (``riskmap serve``, :mod:`webmap.server`): ``RISKMAP_WORKERS`` worker processes
    (default: the number of cores this process may run on), each with ``RISKMAP_THREADS``
    threads and its own store connections and cache. ``RISKMAP_ACCESS_LOG`` is where the
    access log goes (:mod:`webmap.access_log`): ``-`` standard error (default), ``off``, or a
    file appended to.
    Sign-in (:mod:`webmap.auth`): ``RISKMAP_SECRET_KEY`` signs the session cookies (every
    worker process must have the same; unset, one is generated once and kept in
    :attr:`secret_key_path`, mode 0600, beside the store file); a session ends after
    ``RISKMAP_SESSION_IDLE_MINUTES`` without a request and ``RISKMAP_SESSION_MAX_HOURS`` after
    sign-in whatever happens; ``RISKMAP_ACCOUNT_RECHECK_S`` is how long a process trusts a
    signed-in account it has read (a disabled user or revoked token is out after at most
    that); ``RISKMAP_TRUST_PROXY=1`` believes a reverse proxy's ``X-Forwarded-Proto`` /
    ``X-Forwarded-For`` (only behind one: a client could send them itself).
    ``RISKMAP_MAX_BODY_MB`` bounds a request body (batch uploads): larger is a 413.
    """

    model_config = SettingsConfigDict(env_prefix="RISKMAP_", extra="ignore")

    database_url: str | None = Field(None, description="postgresql://… selects PostGIS; unset: GeoPackage")
    gpkg_path: Path = Field(default_factory=default_gpkg_path, description="embedded store file")
    read_only: bool = Field(False, description="open the embedded store read-only (automatic when it cannot be"
                                               " written)")
    host: str = Field("127.0.0.1", description="address the map server listens on")
    port: int = Field(5000, ge=1, le=65535, description="port the map server listens on")
    language: Literal["zh", "en"] = Field("zh", description="default UI language")
    basemap_url: str | None = Field(None, description="optional XYZ basemap template ({z}/{x}/{y})")
    basemap_datum: Literal["wgs84", "gcj02"] = Field("wgs84", description="datum of the basemap tiles")
    response_speed_kmh: float = Field(40.0, gt=0, le=200, description="mean response speed for arrival times")
    detour_factor: float = Field(1.4, ge=1, le=5, description="road distance / straight-line distance")
    data_dir: Path = Field(DEFAULT_DATA_DIR, description="the project's data/ folder: reference/, rules/, config/")
    rules_path: Path | None = Field(None, description="site-veto rule set (default <data_dir>/rules/veto_rules.yaml)")
    area_config_path: Path | None = Field(
        None, description="area-risk parameters, weights, chemicals (default <data_dir>/config/area_risk.yaml)")
    roles_path: Path | None = Field(None, description="roles and permissions (default <data_dir>/roles.yaml)")
    cache_entries: int = Field(256, ge=1, le=100_000, description="answers (analyses, frames) kept in the cache")
    cache_mb: int = Field(64, ge=0, le=65_536, description="megabytes of rendered tiles kept in the cache")
    workers: int | None = Field(None, ge=1, le=256,
                                description="worker processes of riskmap serve (default: the number of cores)")
    threads: int = Field(2, ge=1, le=64, description="request threads in each worker process")
    access_log: str = Field("-", min_length=1, description="access log: '-' stderr, 'off', or a file appended to")
    secret_key: SecretStr | None = Field(None, description="signs session cookies (default: a generated key file)")
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60, description="a session ends after this long unused")
    session_max_hours: int = Field(12, ge=1, le=24 * 30, description="a session ends this long after sign-in")
    account_recheck_s: float = Field(2.0, ge=0, le=300,
                                     description="seconds a signed-in account is trusted before it is read again")
    trust_proxy: bool = Field(False, description="believe X-Forwarded-Proto/-For (behind a reverse proxy only)")
    max_body_mb: int = Field(64, ge=1, le=4096, description="largest request body (uploads), megabytes")

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError(f"must start with postgresql://, got {value.split(':', 1)[0]!r}")
        return value.strip()

    @field_validator("secret_key")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value().strip()) < MIN_SECRET_LENGTH:
            raise ValueError(f"at least {MIN_SECRET_LENGTH} characters (e.g. python -c 'import secrets; "
                             "print(secrets.token_urlsafe(48))')")
        return value

    @property
    def secret_key_path(self) -> Path:
        """Where a generated session key is kept: beside the store file (the per-user data
        folder for PostGIS too), never in the project."""
        return self.gpkg_path.with_name("riskmap-secret.key")

    @property
    def worker_count(self) -> int:
        """``workers``, or the number of cores this process may run on."""
        if self.workers is not None:
            return self.workers
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            return os.cpu_count() or 1

    @property
    def store_kind(self) -> str:
        return "postgis" if self.database_url else "geopackage"

    @property
    def paths(self) -> DataPaths:
        """Where the data files are: under ``data_dir`` unless a file has its own setting."""
        data = self.data_dir
        return DataPaths(
            data_dir=data,
            reference_dir=data / "reference",
            rules_path=self.rules_path or data / "rules" / "veto_rules.yaml",
            area_config_path=self.area_config_path or data / "config" / "area_risk.yaml",
            roles_path=self.roles_path or data / "roles.yaml",
        )


class SettingsError(BadInput):
    """Settings that do not validate; the message is one line naming the variable."""


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise :class:`SettingsError` with one line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "RISKMAP_" + str(err["loc"][0]).upper() if err["loc"] else "RISKMAP_*"
        raise SettingsError(f"{name}: {err['msg']}") from None


def open_context(settings: Settings, *, store: Store | None = None) -> Context:
    """The context the app or a command runs on: ``store`` (default: the configured store,
    opened and its schema created or upgraded), the data paths and one cache sized by
    ``cache_entries`` / ``cache_mb``.  Store errors propagate
    (:class:`geo.stores.protocol.StoreError`, one line naming the setting)."""
    if store is None:
        store = open_store(database_url=settings.database_url, gpkg_path=settings.gpkg_path,
                           read_only=settings.read_only)
        store.init_schema()
    cache = Cache(max_entries=settings.cache_entries, max_bytes=settings.cache_mb * 1024 * 1024)
    return Context(store, settings.paths, cache)


def session_secret(settings: Settings) -> str:
    """The key that signs session cookies: ``RISKMAP_SECRET_KEY``, else the key kept in
    :attr:`Settings.secret_key_path`, generated there (mode 0600) the first time.

    Several processes starting at once agree on one key: each writes a private temporary
    file and links it into place, and the first link wins.  Raises :class:`SettingsError`
    naming the file when it cannot be written, is readable by others or holds no key.
    """
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().strip()
    path = settings.secret_key_path
    if not path.exists():
        try:
            _create_secret_file(path)
        except OSError as exc:
            raise SettingsError(f"RISKMAP_SECRET_KEY is not set and the key file {path} cannot be written "
                                f"({exc.strerror or exc}): set RISKMAP_SECRET_KEY") from None
    return _read_secret_file(path)


def _create_secret_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):  # another process was first: its key is the key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read_secret_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"session key file {path} cannot be read ({exc}): set RISKMAP_SECRET_KEY") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SettingsError(f"session key file {path} is readable by others (mode {stat.S_IMODE(mode):04o}): "
                            f"chmod 600 {path}")
    if len(key) < MIN_SECRET_LENGTH:
        raise SettingsError(f"session key file {path} holds no key of {MIN_SECRET_LENGTH}+ characters: "
                            "delete it to have one generated")
    return key
