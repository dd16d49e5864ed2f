"""Parsing YAML safely: no anchors, aliases, explicit tags or duplicate keys; fast where plainly safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from matchmaker.core.errors import Problem, ProfileError

MAX_FILE_BYTES = 256 * 1024


def _refusal(event: Any) -> str | None:
    """Why a YAML event is refused (an alias, an anchor or an explicit tag), or None."""
    if isinstance(event, yaml.AliasEvent):
        return "YAML aliases (*name) are not accepted"
    if getattr(event, "anchor", None) is not None:
        return "YAML anchors (&name) are not accepted"
    tag = getattr(event, "tag", None)
    implicit = getattr(event, "implicit", True)
    if tag is not None and not (implicit is True or (isinstance(implicit, tuple) and any(implicit))):
        return f"YAML tags ({tag}) are not accepted"
    return None


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that also refuses anchors, aliases, explicit tags and duplicate keys.

    Aliases make tiny files expand to gigabytes once serialised; explicit tags invite custom types;
    a duplicate key silently drops a claim.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        problem = _refusal(event)
        if problem is not None:
            raise yaml.MarkedYAMLError(problem=problem, problem_mark=event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.MarkedYAMLError(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, folder: Path) -> Any:
    """Parse one YAML file under the safety rules; raise ProfileError naming the file."""
    name = path.name
    resolved = path.resolve()
    if path.is_symlink() and not resolved.is_relative_to(folder.resolve()):
        raise ProfileError([Problem(name, "", str(resolved), "symbolic link leaves the profile folder; not accepted")])
    size = resolved.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ProfileError(
            [Problem(name, "", f"{size} bytes", f"file is {size} bytes; at most {MAX_FILE_BYTES} bytes are accepted")]
        )
    raw = resolved.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProfileError(
            [Problem(name, "", f"byte {err.start}", f"not UTF-8 (invalid byte at position {err.start})")]
        ) from err
    return parse_yaml(text, name)


_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)
_RESOLVER: Any = yaml.resolver.Resolver()
_CONSTRUCTOR: Any = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_DOUBTFUL = object()


def _scalar(event: yaml.ScalarEvent) -> Any:
    """A scalar's value as the safe loader would construct it, or _DOUBTFUL."""
    if not event.implicit[0]:  # quoted or block scalars are strings
        return event.value
    tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, (True, False))
    if tag == _STR:
        return event.value
    construct = _CONSTRUCTOR.yaml_constructors.get(tag)
    if construct is None or tag.endswith(":merge"):
        return _DOUBTFUL
    return construct(_CONSTRUCTOR, yaml.ScalarNode(tag, event.value, style=event.style))


def _fast_yaml(text: str) -> Any:
    """The document built from libyaml's event stream, or _DOUBTFUL if it has anything _StrictLoader refuses.

    Reading events in C and building the plain mappings, lists and scalars of a profile here is several
    times faster than PyYAML's composer and constructor. Anything doubtful (an alias, anchor, explicit
    tag, complex or repeated key, merge key, several documents or a parse error) returns _DOUBTFUL, and
    the pure-Python strict loader then reads the text and words the error.
    """
    stack: list[Any] = []  # open dicts and lists
    keys: list[Any] = []  # per open collection: the pending key of a dict, _DOUBTFUL when a key is due
    root: Any = None
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_FAST_LOADER):
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    return _DOUBTFUL
                continue
            if isinstance(event, yaml.AliasEvent):
                return _DOUBTFUL
            if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                stack.pop()
                keys.pop()
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            tag = getattr(event, "tag", None)
            implicit = getattr(event, "implicit", True)
            if event.anchor is not None or (
                tag is not None and not (any(implicit) if isinstance(implicit, tuple) else implicit)
            ):
                return _DOUBTFUL
            if isinstance(event, yaml.ScalarEvent):
                value = _scalar(event)
                if value is _DOUBTFUL:
                    return _DOUBTFUL
            else:
                value = {} if isinstance(event, yaml.MappingStartEvent) else []
            if not stack:
                root = value
            elif isinstance(stack[-1], list):
                stack[-1].append(value)
            elif keys[-1] is _DOUBTFUL:  # this node is a key
                if not isinstance(event, yaml.ScalarEvent) or value in stack[-1]:
                    return _DOUBTFUL
                keys[-1] = value
            else:
                stack[-1][keys[-1]] = value
                keys[-1] = _DOUBTFUL
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                stack.append(value)
                keys.append(_DOUBTFUL)
    except (yaml.YAMLError, TypeError, ValueError):
        return _DOUBTFUL
    return root


def parse_yaml(text: str, name: str = "<text>") -> Any:
    """Parse YAML under the safety rules: from libyaml's events when plainly safe, else the strict loader."""
    if _FAST_LOADER is not None:
        data = _fast_yaml(text)
        if data is not _DOUBTFUL:
            return data
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ProfileError([Problem(name, where, "", f"invalid YAML: {problem}")]) from err
