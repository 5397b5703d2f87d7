"""Read YAML with line numbers, so that validation errors can say where a problem is."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gapwatch.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value
            out[(*path, name)] = key.start_mark.line + 1
            _lines(value, (*path, name), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)


class YamlDocument:
    """A parsed YAML file and the line of every key and item in it."""

    def __init__(self, path: Path, text: str | None = None) -> None:
        self.path = path
        if text is None:
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise ConfigError(f"{path}: file not found") from None
            except UnicodeDecodeError:
                raise ConfigError(f"{path}: not UTF-8 text") from None
            except OSError as error:
                raise ConfigError(f"{path}: cannot read ({error.strerror})") from None
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data: Any = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            problem = getattr(error, "problem", None) or str(error)
            raise ConfigError(f"{where}: malformed YAML ({problem})") from None
        self.lines: dict[tuple[Any, ...], int] = {}
        if node is not None:
            _lines(node, (), self.lines)

    def line(self, path: tuple[Any, ...]) -> int:
        """The line of the deepest known key on ``path`` (1 if none is known)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1

    def where(self, path: tuple[Any, ...]) -> str:
        return f"{self.path}:{self.line(path)}"

    def validate(self, model: type[Model], data: Any, path: tuple[Any, ...] = ()) -> Model:
        """Validate ``data`` (found at ``path`` in this file) as ``model``; errors name the line."""
        try:
            return model.model_validate(data)
        except ValidationError as error:
            first = error.errors()[0]
            location = (*path, *first["loc"])
            field = ".".join(str(part) for part in location) or "(top level)"
            message = first["msg"]
            if first["type"] == "extra_forbidden":
                message = "unknown field"
            raise ConfigError(f"{self.where(location)}: {field}: {message}") from None
