"""Settings from (highest first) command-line flags, a TOML config file, MATCHMAKER_* variables, defaults."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from matchmaker.core.errors import SettingsError
from matchmaker.core.scoring import COMBINERS, ScoringSettings


class ScoringConfig(BaseModel):
    """The ``[scoring]`` table of the config file."""

    model_config = ConfigDict(extra="forbid")

    dimension_weights: dict[str, float] = Field(default_factory=dict)
    sector_weight: float = 0.25
    cross_border_weight: float = 0.0
    combiner: str = "harmonic"
    bridge: tuple[str, str] = ("JP", "IN")

    def to_core(self) -> ScoringSettings:
        return ScoringSettings(
            dict(self.dimension_weights), self.sector_weight, self.cross_border_weight, self.combiner, self.bridge
        )


class Settings(BaseSettings):
    """Everything configurable; environment variables are MATCHMAKER_<NAME>.

    Nested settings use a double underscore: MATCHMAKER_SCORING__SECTOR_WEIGHT=0.5.
    """

    model_config = SettingsConfigDict(env_prefix="MATCHMAKER_", env_nested_delimiter="__", extra="forbid")

    profiles: Path | None = None
    sources: Path | None = None
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    database_url: str | None = None
    database: Path = Path("matchmaker.db")
    api_keys: list[str] = Field(default_factory=list)
    cors_origins: list[str] = Field(default_factory=list)
    allow_shipped_overwrite: bool = False
    memory_budget_mb: float = 512.0
    # Where all-pairs work runs: "local" (threads of this process) or "dask" (a Dask cluster: the scheduler
    # at dask_scheduler, MATCHMAKER_DASK_SCHEDULER, else a local cluster of dask_workers processes).
    engine: Literal["local", "dask"] = "local"
    dask_scheduler: str | None = None
    dask_workers: int | None = Field(default=None, ge=1)
    # HTTP API request bodies; room for a profile at every count and length limit in plain text.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Settings from ``config`` (TOML) and the environment; ``overrides`` (not None) win."""
    data: dict[str, Any] = {}
    if config is not None:
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise SettingsError(f"config file {str(config)!r} does not exist") from err
        except tomllib.TOMLDecodeError as err:
            raise SettingsError(f"config file {str(config)!r} is not valid TOML: {err}") from err
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SettingsError(
            f"setting {where!r}: {first['msg']} (got {first.get('input')!r}); "
            f"combiners accepted: {', '.join(COMBINERS)}"
        ) from err
