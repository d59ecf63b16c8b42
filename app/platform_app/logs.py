"""One JSON object per line on stdout; systemd appends it to the file the CloudWatch agent
ships. The field names are the contract in stack/app_log_contract.py (level, event, status)."""
from __future__ import annotations

import json
import logging
import sys
import time

LOGGER_NAME = "platform_app"

# logging's own record attributes; everything else on a record came from ``extra=``.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message",
                                                                               "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats app and gunicorn records alike, so every line in the log group is JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "event": getattr(record, "event", None) or record.getMessage(),
            "logger": record.name,
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and key != "event":
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, separators=(",", ":"))


def configure(stream=None) -> logging.Logger:
    logger = logging.getLogger(LOGGER_NAME)
    if not any(getattr(h, "_platform_json", False) for h in logger.handlers):
        handler = logging.StreamHandler(stream or sys.stdout)
        handler.setFormatter(JsonFormatter())
        handler._platform_json = True
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def event(logger: logging.Logger, level: int, name: str, **fields) -> None:
    logger.log(level, name, extra={"event": name, **fields})
