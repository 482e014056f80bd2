"""Typed configuration: campuslake.yaml (or the shipped default) with ${ENV} substitution."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from campuslake.errors import ConfigError, UsageError

ColumnType = Literal["string", "integer", "timestamp", "email", "phone"]
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """One column of a dataset contract."""

    name: str
    """Curated column name (snake_case)."""
    aliases: list[str] = Field(default_factory=list)
    """Source header names that mean this column, compared after header normalization."""
    type: ColumnType = "string"
    """Target type; a value that cannot be read as it is quarantined as `bad_type`."""
    required: bool = False
    """A row without a value here is quarantined as `missing_required`."""
    min: float | None = None
    """Inclusive lower bound for numeric columns (`out_of_range` below it)."""
    max: float | None = None
    """Inclusive upper bound for numeric columns (`out_of_range` above it)."""
    pattern: str | None = None
    """Regular expression the normalized value must match in full (`pattern_mismatch`)."""
    allowed: list[str] | None = None
    """Canonical values; input matches them ignoring case, spaces and dots (`unknown_value`)."""
    canonical: dict[str, list[str]] | None = None
    """Canonical value -> other spellings that mean it (`unknown_value` when none match)."""
    normalize: list[str] = Field(default_factory=list)
    """Normalization rules applied in order (see campuslake.transform.normalize.RULES)."""
    formats: list[str] = Field(default_factory=list)
    """strptime formats tried in order for timestamp columns."""
    multiline: bool = False
    """A text column's value may hold line breaks (a free-text note). Otherwise a line break in
    it quarantines the row (`line_break`): most often a stray quote read the next lines into it."""

    @property
    def header_names(self) -> set[str]:
        from campuslake.validate.headers import normalize_header

        return {normalize_header(a) for a in [self.name, *self.aliases]}


class Contract(_Strict):
    """A dataset's declared shape: columns, key, null tokens and the latest-wins rule."""

    description: str = ""
    columns: list[ColumnSpec]
    key: list[str]
    """Columns that identify one entity; `<dataset>_current` keeps one row per key."""
    latest_by: str | None = None
    """Column deciding which row is latest per key; empty values fall back to ingest time."""
    null_tokens: list[str] = Field(default_factory=lambda: [""], max_length=64)
    """Cell values (compared trimmed, case-insensitive) that mean "no value" (at most 64)."""

    @model_validator(mode="after")
    def _references_exist(self) -> Contract:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate column names in contract: {names}")
        for ref in [*self.key, *([self.latest_by] if self.latest_by else [])]:
            if ref not in names:
                raise ValueError(f"contract refers to unknown column {ref!r}; columns are {names}")
        return self

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


class NormalizationConfig(_Strict):
    default_region: str = "PH"
    """ISO region used to read phone numbers written without a country code."""
    honorifics: list[str] = Field(default_factory=list)
    """Leading titles removed from person names, in any case, with or without a dot."""
    suffixes: list[str] = Field(default_factory=list)
    """Trailing credentials removed from person names, in any case, with or without dots."""
    acronyms: list[str] = Field(default_factory=list)
    """Words kept upper-case by title casing (compared lower-case)."""


class Settings(_Strict):
    lake: str = "./lake"
    catalog_url: str | None = None
    engine: str = "duckdb"
    excellent_threshold: int = 5
    top_n_per_department: int = 100
    normalization: NormalizationConfig = NormalizationConfig()
    datasets: dict[str, Contract]

    def dataset(self, name: str) -> Contract:
        if name not in self.datasets:
            from campuslake.registry import did_you_mean

            raise UsageError(f"unknown dataset {name!r}{did_you_mean(name, self.datasets)}")
        return self.datasets[name]


def _substitute_env(value: object, source: str) -> object:
    if isinstance(value, str):
        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(f"environment variable {name} is not set", file=source)
            return os.environ[name]

        return _ENV_REFERENCE.sub(lookup, value)
    if isinstance(value, list):
        return [_substitute_env(v, source) for v in value]
    if isinstance(value, dict):
        return {k: _substitute_env(v, source) for k, v in value.items()}
    return value


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it (3x faster on the shipped config), else Python's"""


def default_config_text() -> str:
    return resources.files("campuslake.defaults").joinpath("campuslake.yaml").read_text("utf-8")


def load_settings(path: str | Path | None = None, *, lake: str | None = None) -> Settings:
    """Read settings from `path` (or the shipped default); `lake` overrides the file's lake."""
    if path is None:
        source, text = "<default campuslake.yaml>", default_config_text()
    else:
        source = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config: {exc.strerror}", file=source) from exc
    try:
        raw = yaml.load(text, Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"config is not valid YAML: {getattr(exc, 'problem', exc)}",
            file=source,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from exc
    raw = _substitute_env(raw, source)
    if lake is not None:
        raw["lake"] = lake
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise _config_error(exc, text, source) from exc


def _config_error(exc: ValidationError, text: str, source: str) -> ConfigError:
    """The first problem pydantic found, said as what to change, at its line and column."""
    errors = exc.errors()
    first, loc = errors[0], errors[0]["loc"]
    where = ".".join(str(p) for p in loc)
    if first["type"] == "missing":
        message = f"missing key {where!r}: add it (`campuslake config` prints the shipped configuration)"
    elif first["type"] == "extra_forbidden":
        from campuslake.registry import did_you_mean

        message = f"unknown key {where!r}{did_you_mean(str(loc[-1]), _model_at(loc[:-1]).model_fields)}"
    else:
        message = f"invalid config at {where}: {first['msg']}" if loc else f"invalid config: {first['msg']}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    line, column = _position(text, loc, at_key=first["type"] == "extra_forbidden")
    return ConfigError(message, file=source, line=line, column=column)


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The settings model that holds what is at `loc` (keys and list indexes from Settings)."""
    model: Any = Settings
    for part in loc:
        if isinstance(model, type) and issubclass(model, BaseModel):
            model = model.model_fields[str(part)].annotation
        else:  # a dict's key or a list's index: its values' type
            model = get_args(model)[-1]
        if get_origin(model) in (Union, UnionType):  # `X | None`: X
            model = next(a for a in get_args(model) if a is not type(None))
    return model if isinstance(model, type) and issubclass(model, BaseModel) else Settings


def _position(text: str, loc: tuple[int | str, ...], at_key: bool = False) -> tuple[int | None, int | None]:
    """Line and column (from 1) of the YAML value at `loc` (keys and list indexes), or of its
    key, or of the deepest node on the way to it (a key that is missing is reported at its mapping)."""
    try:
        node = yaml.compose(text, Loader=_YAML_LOADER)
    except yaml.YAMLError:
        return None, None
    if node is None:
        return None, None
    for depth, part in enumerate(loc, 1):
        if isinstance(node, yaml.MappingNode):
            last_key = at_key and depth == len(loc)
            found = next((key if last_key else value for key, value in node.value if key.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            found = node.value[part]
        else:
            found = None
        if found is None:
            break
        node = found
    return node.start_mark.line + 1, node.start_mark.column + 1
