"""A dependency-free progress bar for sweeps (writes to stderr)."""

from __future__ import annotations

import sys
import time


class Progress:
    """Minimal progress bar: ``desc: 40% |#####     | 40/100 [3.1s<4.6s]``.

    Redraws at most every ``interval`` seconds; on a non-terminal stream it
    prints a line at every 10% so logs stay short.
    """

    def __init__(self, total, desc="", disable=False, stream=None, interval=0.2):
        self.total = max(int(total), 0)
        self.desc = desc
        self.disable = disable or self.total == 0
        self.stream = sys.stderr if stream is None else stream
        self.interval = interval
        self.count = 0
        self.start = time.perf_counter()
        self._last = 0.0
        self._last_decile = -1
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, k=1):
        self.count += k
        if self.disable:
            return
        now = time.perf_counter()
        done = self.count >= self.total
        if self._tty:
            if done or now - self._last >= self.interval:
                self._last = now
                self.stream.write("\r" + self._line(now))
                self.stream.flush()
        else:
            decile = int(10 * self.count / self.total)
            if decile > self._last_decile:
                self._last_decile = decile
                self.stream.write(self._line(now) + "\n")
                self.stream.flush()

    def _line(self, now):
        frac = self.count / self.total
        elapsed = now - self.start
        eta = elapsed / frac - elapsed if frac > 0 else float("nan")
        bar = "#" * int(20 * frac)
        return f"{self.desc}: {100 * frac:3.0f}% |{bar:<20}| {self.count}/{self.total} [{elapsed:.1f}s<{eta:.1f}s]"

    def close(self):
        if not self.disable and self._tty:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
