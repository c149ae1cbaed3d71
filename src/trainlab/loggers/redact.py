"""Keep secrets out of what loggers save: the config logged to W&B/TensorBoard/CSV never holds an API key."""

from __future__ import annotations

import os
import re
from typing import Any

REDACTED = "<redacted>"
# Keys whose values are secrets whatever they hold (`api_key`, `WANDB_API_KEY`, `token`, `password`, …).
SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|passwd|credential)", re.IGNORECASE)
# Environment variables whose values must never be written out, wherever they turn up in a value.
SECRET_ENV = ("WANDB_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


def secret_values() -> list[str]:
    return [v for name in SECRET_ENV if len(v := os.environ.get(name, "")) >= 8]


def redact(data: Any, secrets: list[str] | None = None) -> Any:
    """A copy of plain config data with secret keys blanked out and secret env values cut out of strings."""
    secrets = secret_values() if secrets is None else secrets
    if isinstance(data, dict):
        return {
            k: REDACTED if isinstance(k, str) and SECRET_KEY.search(k) and v is not None else redact(v, secrets)
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return type(data)(redact(v, secrets) for v in data)
    if isinstance(data, str):
        for secret in secrets:
            data = data.replace(secret, REDACTED)
    return data
