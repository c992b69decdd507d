"""Nothing leaves the machine: switch off every library's telemetry before the library loads.

Each variable below is read by its library at import (ONNX Runtime reads its own when
`onnxruntime` is imported, so setting it later is too late), so `disable_telemetry()` runs first
thing in the CLI and right before the embedder imports ONNX Runtime. The values override the
user's environment on purpose: "no telemetry" is a guarantee, not a default. `tests/test_privacy.py`
proves it by tracing every connect()/sendto() of index, ask, serve and eval.
"""

from __future__ import annotations

import os

TELEMETRY_OFF = {
    # ONNX Runtime 1.32's 1DS telemetry: DNS for mobile.events.data.microsoft.com ~9 s after a
    # session is created; `onnxruntime.disable_telemetry_events()` alone does not stop it.
    "ORT_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",  # Gradio's usage analytics and version check
    "HF_HUB_OFFLINE": "1",  # huggingface_hub: never call the hub
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma (the client is also created with anonymized_telemetry=False)
    "LANGSMITH_TRACING": "false",  # LangChain / LangSmith tracing, whatever the user's shell says
    "LANGSMITH_TRACING_V2": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGCHAIN_TRACING": "false",
    "OTEL_SDK_DISABLED": "true",  # OpenTelemetry (pulled in by Chroma): no exporters
    "DO_NOT_TRACK": "1",
}


TRACING = {name for name in TELEMETRY_OFF if name.startswith(("LANGSMITH", "LANGCHAIN"))}


def disable_telemetry(keep_user_tracing: bool = False) -> None:
    """Set the variables that switch every known library telemetry off, in this process and its children.

    `keep_user_tracing` (the LangChain surface, `advisor.chains`): LangSmith tracing stays off unless
    the user's environment turned it on themselves; everything else is forced off as always."""
    for name, value in TELEMETRY_OFF.items():
        if keep_user_tracing and name in TRACING:
            os.environ.setdefault(name, value)
        else:
            os.environ[name] = value
