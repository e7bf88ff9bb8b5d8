"""onnxruntime sessions, made one way: on the CPU, with set thread counts, and offline.

onnxruntime's Linux wheels (1.32) send usage events to a Microsoft host and keep a
device id under ``~/.cache/Microsoft/DeveloperTools``. That starts at
``import onnxruntime``, before any session exists, and only the
``ORT_DISABLE_TELEMETRY`` environment variable read then turns it off:
``disable_telemetry_events()`` alone leaves the DNS lookups and the device id in
place (measured with strace). So ``pixsearch/__init__.py`` calls ``keep_offline``
before anything can import onnxruntime, pool workers and server workers inherit
the variable, and ``new_session`` also flips the API switch, which is what other
platforms' builds honour.

This module does not import onnxruntime at load time: ``keep_offline`` must run
before it, and callers that treat a missing onnxruntime as an unavailable
analyzer catch the ImportError from ``new_session``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnxruntime as ort

TELEMETRY_SWITCH = "ORT_DISABLE_TELEMETRY"


def keep_offline() -> None:
    """Switch onnxruntime's telemetry off for this process and its children.

    ``setdefault``: someone who sets ``ORT_DISABLE_TELEMETRY=0`` has asked for it.
    """
    os.environ.setdefault(TELEMETRY_SWITCH, "1")


def new_session(model: Path | str | bytes, threads: int = 1) -> ort.InferenceSession:
    """A CPU session for an ONNX file or serialized graph, telemetry off.

    One intra-op thread by default: ingestion runs one worker per core, so
    per-core throughput is what counts, and more threads would only fight the
    other workers. Only errors are logged (level 3): a warning per model load
    would land on the console once per worker.
    """
    import onnxruntime as ort

    ort.disable_telemetry_events()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    source = model if isinstance(model, bytes) else os.fspath(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
