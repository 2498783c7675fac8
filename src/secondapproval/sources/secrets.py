"""Secrets in a deployment file: read from the environment or from a file, never written in it.

An adapter's option of type `Secret` (a token, a password) accepts `{env: NAME}`, `{file: PATH}`
(the file's text, stripped; a relative path is taken from the deployment file's folder), or a
string that is wholly one `${NAME}` interpolation. A literal string is refused when the file is
loaded, so no secret is ever committed beside the rules. The value is a pydantic `SecretStr`: it
prints as `**********`, and `get_secret_value()` gives it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, SecretStr, ValidationInfo


class Interpolated(str):
    """A string that was wholly one `${NAME}` of the deployment file (`deployment.interpolate`)."""

    __slots__ = ()


def _secret(value: Any, info: ValidationInfo) -> SecretStr:
    if isinstance(value, SecretStr):
        return value
    if isinstance(value, Interpolated):
        return SecretStr(str(value))
    if isinstance(value, dict) and set(value) == {"env"} and isinstance(value["env"], str):
        name = value["env"]
        if name not in os.environ:
            raise ValueError(f"the environment variable {name} is not set")
        return SecretStr(os.environ[name])
    if isinstance(value, dict) and set(value) == {"file"} and isinstance(value["file"], str):
        base = (info.context or {}).get("folder", ".")
        path = Path(base) / value["file"]
        try:
            return SecretStr(path.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ValueError(f"cannot read the secret file {path}: {exc.strerror}") from None
    raise ValueError(
        "a secret is given as {env: NAME}, {file: PATH} or ${NAME}, never written in the file"
    )


Secret = Annotated[SecretStr, BeforeValidator(_secret)]
"""A token or password of an adapter's settings (see the module's text)."""
