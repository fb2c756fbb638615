"""Name rules of dflow's README, section 3.1.18, checked where an object is made.

Argo rejects a bad name only at submission, far from the line that made it; checking in the
constructor points the scientist at the right line, with the rule and a valid example.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "InvalidNameError",
    "check_key",
    "check_param_name",
    "check_step_name",
    "check_template_name",
    "check_workflow_name",
]

_RFC1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_STEP = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
_PARAM = re.compile(r"^[-a-zA-Z0-9_]+$")

_SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain: lower case alphanumeric characters, '-' or '.', "
    "starting and ending with an alphanumeric character"
)


_state = threading.local()


@contextmanager
def lenient() -> Iterator[None]:
    """Skip dflow's name rules while loading a manifest that Argo itself accepted."""
    old = getattr(_state, "lenient", False)
    _state.lenient = True
    try:
        yield
    finally:
        _state.lenient = old


def _is_lenient() -> bool:
    return getattr(_state, "lenient", False)


class InvalidNameError(ValueError):
    """A name breaks one of dflow's naming rules (README section 3.1.18)."""


def _fail(kind: str, name: object, rule: str, example: str) -> InvalidNameError:
    return InvalidNameError(
        f"{kind} name {name!r} is invalid: it must be {rule} (dflow README 3.1.18). "
        f"A valid example: {example!r}."
    )


def _suggest_subdomain(name: str) -> str:
    s = re.sub(r"[^a-z0-9.-]+", "-", name.lower())
    # each dot-separated label must start and end with an alphanumeric: no '..', '.-', '-.'
    labels = [part.strip("-") for part in s.split(".")]
    s = ".".join(part for part in labels if part)[:57].rstrip("-.")
    return s or "my-name"


def check_workflow_name(name: str) -> str:
    """Workflow names: RFC 1123 subdomain, at most 57 characters (Argo appends a suffix)."""
    return _check_subdomain("Workflow", name)


def check_template_name(name: str) -> str:
    """OP template names: RFC 1123 subdomain, at most 57 characters."""
    return _check_subdomain("OP template", name)


def template_name(name: str) -> str:
    """A template name given by the user: lowercased first, as dflow does, then checked.

    dflow's ``OPTemplate`` forces lowercase (``src/dflow/op_template.py``), so
    ``ShellOPTemplate(name="Hello")`` is ``hello``. A loaded manifest keeps its names as Argo
    accepted them (camelCase included).
    """
    if _is_lenient() or not isinstance(name, str):
        return check_template_name(name)
    try:
        return check_template_name(name.lower())
    except InvalidNameError:
        check_template_name(name)  # the error names what the user wrote
        raise


def _check_subdomain(kind: str, name: str) -> str:
    if _is_lenient():
        return name
    if not isinstance(name, str) or not _RFC1123_SUBDOMAIN.match(name):
        example = _suggest_subdomain(name) if isinstance(name, str) else "my-name"
        raise _fail(kind, name, _SUBDOMAIN_RULE, example)
    if len(name) > 57:
        raise InvalidNameError(
            f"{kind} name {name!r} is invalid: it has {len(name)} characters, at most 57 are "
            f"allowed (dflow README 3.1.18). A valid example: {name[:57].rstrip('-.')!r}."
        )
    return name


def check_step_name(name: str, kind: str = "Step") -> str:
    """Step and Task names: alphanumerics and '-', starting with an alphanumeric."""
    if _is_lenient():
        return name
    if not isinstance(name, str) or not _STEP.match(name):
        example = "my-step-1"
        if isinstance(name, str):
            example = re.sub(r"[^a-zA-Z0-9-]+", "-", name).strip("-") or example
        raise _fail(
            kind,
            name,
            "made of alphanumeric characters or '-', starting with an alphanumeric character",
            example,
        )
    return name


def check_param_name(name: str, kind: str = "Parameter") -> str:
    """Parameter and artifact names: alphanumerics, '_' and '-'."""
    if _is_lenient():
        return name
    if not isinstance(name, str) or not _PARAM.match(name):
        example = "my_param_1"
        if isinstance(name, str):
            example = re.sub(r"[^-a-zA-Z0-9_]+", "_", name).strip("_") or example
        raise _fail(kind, name, "made of alphanumeric characters, '_' or '-'", example)
    return name


def check_key(key: str) -> str:
    """Step keys: RFC 1123 subdomain once resolved; keys holding ``{{...}}`` are checked at run."""
    if _is_lenient():
        return key
    if not isinstance(key, str):
        raise InvalidNameError(f"Step key {key!r} is invalid: a key must be a string.")
    if "{{" in key:
        return key
    if not _RFC1123_SUBDOMAIN.match(key):
        raise _fail("Key", key, _SUBDOMAIN_RULE, _suggest_subdomain(key))
    return key
