"""Log lines as text or as JSON, for the server (uvicorn's loggers too) and the CLI jobs.

text: warnings and errors only, one readable line each (what the server always
printed). json: one JSON object a line on stderr, from level INFO for pixsearch's
own loggers, including the access log ("pixsearch.access", one line per request,
api/accesslog.py). Fields given with ``extra=`` become keys of the object.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pixsearch.config import Settings

LOG_FORMATS = ("text", "json")
ACCESS_LOGGER = "pixsearch.access"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")

# Attributes every LogRecord has: what is left over was passed with extra=.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's coloured copy of the message
}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, pid, message, then the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,  # which worker, under serve --workers N
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def logging_config(log_format: str) -> dict[str, Any]:
    """A dictConfig for ``log_format``; uvicorn applies it in its supervisor and every worker."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format {log_format!r}: one of {', '.join(LOG_FORMATS)}")
    ours = "INFO" if log_format == "json" else "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,  # module-level loggers exist before this runs
        "formatters": {"text": {"format": TEXT_FORMAT}, "json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "WARNING", "handlers": ["stderr"]},
        "loggers": {
            "pixsearch": {"level": ours},
            # uvicorn's loggers lose their own handlers and reach the root's, in the same format.
            **{name: {"handlers": [], "propagate": True} for name in _UVICORN},
        },
    }


def configure_logging(settings: Settings) -> None:
    """Log as ``settings.log_format`` says in this process: a CLI job (serve has uvicorn do it)."""
    logging.config.dictConfig(logging_config(settings.log_format))
