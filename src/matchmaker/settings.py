"""Settings from (highest first) command-line flags, a TOML config file, MATCHMAKER_* variables, defaults.

Two sets: :class:`Settings`, what every command reads (the profiles, the database, scoring), and
:class:`ServiceSettings`, which adds what only the HTTP service uses (API keys, CORS, body cap). A
read-only command never parses a server-only setting, so a mistake in one cannot break it; the
service parses them when it starts and says in one line what is wrong.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from matchmaker.core.defaults import DEFAULT_COMBINER, DEFAULT_ENCODER
from matchmaker.core.errors import SettingsError
from matchmaker.core.scoring import ScoringSettings

ENV_PREFIX = "MATCHMAKER_"
S = TypeVar("S", bound="Settings")


class ScoringConfig(BaseModel):
    """The ``[scoring]`` table of the config file."""

    model_config = ConfigDict(extra="forbid")

    dimension_weights: dict[str, float] = Field(default_factory=dict)
    sector_weight: float = 0.25
    cross_border_weight: float = 0.0
    combiner: str = DEFAULT_COMBINER
    bridge: tuple[str, str] = ("JP", "IN")

    def to_core(self) -> ScoringSettings:
        return ScoringSettings(
            dict(self.dimension_weights), self.sector_weight, self.cross_border_weight, self.combiner, self.bridge
        )


class Settings(BaseSettings):
    """What every command reads; environment variables are MATCHMAKER_<NAME>.

    Nested settings use a double underscore: MATCHMAKER_SCORING__SECTOR_WEIGHT=0.5.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid")

    profiles: Path | None = None
    sources: Path | None = None
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    database_url: str | None = None
    database: Path = Path("matchmaker.db")
    memory_budget_mb: float = 512.0
    # Where all-pairs work runs: "local" (threads of this process) or "dask" (a Dask cluster: the scheduler
    # at dask_scheduler, MATCHMAKER_DASK_SCHEDULER, else a local cluster of dask_workers processes).
    engine: Literal["local", "dask"] = "local"
    dask_scheduler: str | None = None
    dask_workers: int | None = Field(default=None, ge=1)
    # Matching: the encoder (a name in matchmaker.core.encoding.ENCODERS), the local model directory of
    # the sentence-transformers encoder, the threads a model may use, and where embeddings (and fitted
    # populations) are cached: $XDG_CACHE_HOME/matchmaker or ~/.cache/matchmaker when not given.
    encoder: str = DEFAULT_ENCODER
    encoder_model: Path | None = None
    embedding_threads: int = Field(default=1, ge=1, le=64)
    cache_dir: Path | None = None
    # Whether a command keeps the fitted population of its profiles in cache_dir/populations and reads it
    # back next time (matchmaker.fit_cache): the same answers, without loading and fitting again.
    fit_cache: bool = True


def text_list(value: Any) -> Any:
    """A list setting given as text: a JSON list, or items separated by commas (one item is a list of one).

    >>> text_list("key-1"), text_list("a, b,,c"), text_list('["x,y"]'), text_list(["kept"]), text_list("")
    (['key-1'], ['a', 'b', 'c'], ['x,y'], ['kept'], [])
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"starts with '[' but is not a JSON list ({err.msg})") from None
    return [item.strip() for item in text.split(",") if item.strip()]


# The list settings accept a plain value, a comma-separated list or a JSON list.
TextList = Annotated[list[str], NoDecode]


class ServiceSettings(Settings):
    """Everything the HTTP service reads: the common settings and the server-only ones."""

    api_keys: TextList = Field(default_factory=list)
    cors_origins: TextList = Field(default_factory=list)
    allow_shipped_overwrite: bool = False
    # A registration's new texts: embedded in the background after it is answered (ranked from its
    # words and tags meanwhile), or before it is answered ("inline": slower, complete at once).
    registration_embedding: Literal["background", "inline"] = "background"
    # HTTP API request bodies; room for a profile at every count and length limit in plain text.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # Scheduling jobs (matchmaker.service.jobs): how often a running job's worker says it is alive, and after
    # how long without a word another worker takes the job over.
    job_heartbeat_seconds: float = Field(default=2.0, ge=0.1, le=600)
    job_stale_seconds: float = Field(default=20.0, ge=1, le=3600)

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return text_list(value)


SECRET_FIELDS = frozenset({"api_keys", "database_url"})  # never echoed in an error message
EXPECTED = {
    "api_keys": "a key, keys separated by commas, or a JSON list of keys",
    "cors_origins": "an origin, origins separated by commas, or a JSON list",
}


def _read_config(config: Path) -> dict[str, Any]:
    name = repr(str(config))
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise SettingsError(f"config file {name} does not exist") from err
    except IsADirectoryError as err:
        raise SettingsError(f"config file {name} is a folder; give a TOML file") from err
    except UnicodeDecodeError as err:
        raise SettingsError(f"config file {name} is not UTF-8 text (byte {err.start}); give a TOML file") from err
    except OSError as err:
        raise SettingsError(f"config file {name} cannot be read: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"config file {name} is not valid TOML: {err}") from err
    return data


def _message(err: ValidationError) -> str:
    """One line for the first problem: the setting, where it can be set, what was wrong and what is expected."""
    first = err.errors()[0]
    loc = [str(p) for p in first["loc"]]
    where = ".".join(loc)
    variable = ENV_PREFIX + "__".join(loc).upper()
    if first["type"] == "extra_forbidden":
        return f"unknown setting {where!r} (in the config file or {variable})"
    got = "" if loc[0] in SECRET_FIELDS else f" (got {first.get('input')!r})"
    expected = f"; expected {EXPECTED[loc[0]]}" if loc[0] in EXPECTED else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"setting {where!r} ({variable} or the config file): {message}{got}{expected}"


def _load(kind: type[S], config: Path | None, overrides: dict[str, Any]) -> S:
    data = _read_config(config) if config is not None else {}
    if kind is Settings:
        # A config file may hold the service's settings too; a command that does not serve ignores them.
        data = {k: v for k, v in data.items() if k not in ServiceSettings.model_fields or k in Settings.model_fields}
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return kind(**data)
    except ValidationError as err:
        raise SettingsError(_message(err)) from None


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """The common settings from ``config`` (TOML) and the environment; ``overrides`` (not None) win.

    Server-only settings are neither read nor checked here (see :func:`load_service_settings`).
    """
    return _load(Settings, config, overrides)


def load_service_settings(config: Path | None = None, **overrides: Any) -> ServiceSettings:
    """Every setting the HTTP service reads, from ``config`` (TOML) and the environment; ``overrides`` win."""
    return _load(ServiceSettings, config, overrides)
