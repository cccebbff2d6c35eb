"""The lab's clock: wall time plus an offset that a notebook can move forward."""

from __future__ import annotations

import threading
import time


class LabClock:
    """Time as the authorization server sees it.

    Codes and tokens expire by this clock, so a notebook can call
    ``lab.clock.advance(600)`` and watch a token die without sleeping.
    The clock only moves forward: a token that was expired stays expired.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, lab time."""
        return time.time() + self._offset

    @property
    def offset(self) -> float:
        """How far the lab clock runs ahead of the wall clock, in seconds."""
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds``; returns the new offset."""
        if seconds < 0:
            raise ValueError("the lab clock only moves forward")
        with self._lock:
            self._offset += seconds
            return self._offset

    def reset(self) -> None:
        """Back to wall time (used when the lab is reset)."""
        with self._lock:
            self._offset = 0.0

    def to_wall(self, lab_timestamp: float) -> float:
        """Translate a lab-time deadline into wall time.

        The SDK's handlers compare deadlines with ``time.time()``; handing them
        ``to_wall(deadline)`` makes them honour the lab clock too.
        """
        return lab_timestamp - self._offset
