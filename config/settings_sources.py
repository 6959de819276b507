"""The layers of the settings as pydantic-settings sources.

Highest first: the command line (the values the settings are built with), the
``CRMSPHERE_SECTION__KEY`` environment variables, the ``--config`` file, then
``config/defaults.toml``.  pydantic-settings merges them (tables key by key, other values
replaced whole) and the settings model validates the result.

The environment comes from a mapping the caller gives (``os.environ`` in the program, a plain
dict in tests): a custom source reads it, so nothing ever writes ``os.environ``.  A value is
read as a TOML value when it is one (``8081``, ``true``, ``["a", "b"]``, ``{ a = 1 }``), else
kept as text, exactly as a config file would spell it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource, TomlConfigSettingsSource

from domain.errors import ConfigError

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

ENV_PREFIX = "CRMSPHERE_"

#: The file and environment layers of the settings being built now, highest first.  The
#: settings' ``settings_customise_sources`` is a class method: this is how one load hands it
#: its own layers (each thread and task sees only the ones it set).
LAYERS: ContextVar[tuple[PydanticBaseSettingsSource, ...]] = ContextVar("settings_layers", default=())


@contextmanager
def settings_layers(layers: tuple[PydanticBaseSettingsSource, ...]) -> Iterator[None]:
    """Make ``layers`` the sources of the settings built inside the block."""
    token = LAYERS.set(layers)
    try:
        yield
    finally:
        LAYERS.reset(token)


class TomlFileSource(TomlConfigSettingsSource):
    """A TOML file that must exist and parse; otherwise ``ConfigError`` naming the file."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        # pydantic-settings skips a missing file; a --config the operator named must exist.
        if not path.is_file():
            raise ConfigError("--config", str(path), "an existing TOML file")
        try:
            super().__init__(settings_cls, toml_file=path)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("--config", str(path), f"valid TOML ({exc})") from exc
        except RecursionError as exc:
            # tomllib parses nested arrays and inline tables by recursion.
            raise ConfigError("--config", str(path), "TOML nested less deeply (an array or inline "
                                                     "table nested hundreds of levels deep)") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError("--config", str(path), f"valid TOML in UTF-8 ({exc.reason} at byte "
                                                     f"{exc.start})") from exc
        except OSError as exc:
            raise ConfigError("--config", str(path), f"a readable TOML file ({exc.strerror})") from exc

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        # Windows editors (Notepad before 2019, PowerShell's Out-File) start UTF-8 with a
        # byte-order mark, which tomllib refuses as "Invalid statement at line 1, column 1".
        return tomllib.loads(file_path.read_bytes().decode("utf-8").removeprefix("\ufeff"))


def env_value(raw: str) -> Any:
    """An environment value read as a TOML value when it is one (8080, true, [..]), else text."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        return raw  # as text: the setting's model names the key if text is not what it takes


def env_layer(environ: Mapping[str, str], prefix: str = ENV_PREFIX) -> dict[str, Any]:
    """The nested table that ``PREFIX_SECTION__KEY`` variables spell (other names ignored)."""
    layer: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(prefix) or "__" not in name:
            continue
        path = name[len(prefix):].lower().split("__")
        node = layer
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                # SECTION__KEY and SECTION__KEY__SUB both set: the table wins, as in TOML a
                # key cannot be both a value and a table.
                child = node[part] = {}
            node = child
        if not isinstance(node.get(path[-1]), dict):
            node[path[-1]] = env_value(raw)
    return layer


class TomlEnvironSource(PydanticBaseSettingsSource):
    """The ``CRMSPHERE_*`` variables of a given environment mapping, values read as TOML."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.layer = env_layer(environ)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """The value of one top-level section (``None`` when no variable sets it)."""
        return self.layer.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        """Every section the variables set, unknown ones included (the model refuses them)."""
        return dict(self.layer)
