"""Decision backends: each compiles a checked `Matter` into an `Evaluator`.

An evaluator takes the valid facts of one application (dotted path → value; missing and invalid
facts absent) and the decision date; it adds the derived facts to that mapping and returns one
status code per rule, in rule order (`status`), plus the derived facts whose computation
failed. Backends share nothing but the IR, the function library and this contract.
"""

from __future__ import annotations

from .contract import Backend, Evaluator

__all__ = ["Backend", "Evaluator", "get_backend"]


def get_backend(name: str) -> Backend:
    """The backend called `name` (`native` or `durable`)."""
    from ..errors import BackendError

    if name == "native":
        from .native import NativeBackend

        return NativeBackend()
    if name == "durable":
        try:
            from .durable import DurableBackend  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise BackendError(
                "the durable backend needs durable_rules "
                f"(pip install 'secondapproval[durable]'): {exc}"
            ) from None
        return DurableBackend()  # type: ignore[no-any-return,unused-ignore]
    raise BackendError(f"unknown backend {name!r} (choose native or durable)")
