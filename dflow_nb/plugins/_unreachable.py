"""Shared refusal for dflow plugins whose service cannot be reached from dflow_nb.

dflow's Bohrium and Datasets plugins talk to DP Technology's services over HTTPS. dflow_nb keeps
their module paths and names (dpgen2 imports them at module level), and refuses at first use
with an error naming the service and the way out, never a half-working call.
"""

from __future__ import annotations

from typing import Any, NoReturn


class ServiceUnavailableError(RuntimeError):
    """A dflow plugin's external service is not supported by dflow_nb."""


def refuse(what: str, service: str) -> NoReturn:
    raise ServiceUnavailableError(
        f"{what}: dflow's {service} plugin needs the {service} service, which dflow_nb does not "
        "support (the names exist so that programs importing them load); run the step with the "
        "in-kernel engine, Argo, or DispatcherExecutor for HPC instead"
    )


def refusing_class(name: str, service: str, base: type = object) -> type:
    """A class with dflow's name whose constructor refuses with :func:`refuse`."""

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:  # before ABC's abstract check
        refuse(f"{name}(...)", service)

    return type(name, (base,), {"__new__": __new__, "__doc__": f"dflow's {name}: refused."})
