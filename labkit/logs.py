"""Keep server and SDK logs in a buffer the notebook can read, out of the cells' output."""

from __future__ import annotations

import logging
from collections import deque

# Loggers whose records would otherwise print in whichever cell happens to be running.
CAPTURED = ("uvicorn", "uvicorn.error", "uvicorn.access", "mcp", "httpx2", "labkit")


class LabLogBuffer(logging.Handler):
    """The last ``size`` log records of the lab, as formatted lines."""

    def __init__(self, size: int = 500) -> None:
        super().__init__(level=logging.INFO)
        self.lines: deque[str] = deque(maxlen=size)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a logging handler must never raise
            self.handleError(record)

    def text(self, last: int = 50) -> str:
        return "\n".join(list(self.lines)[-last:])


_buffer = LabLogBuffer()


def capture_logs() -> LabLogBuffer:
    """Route the lab's loggers into one buffer (idempotent) and return it."""
    for name in CAPTURED:
        logger = logging.getLogger(name)
        if _buffer not in logger.handlers:
            logger.addHandler(_buffer)
        logger.propagate = False
        if logger.level == logging.NOTSET or logger.level < logging.INFO:
            logger.setLevel(logging.INFO)
    return _buffer
