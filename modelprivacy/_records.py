"""The records file of a sweep: read with validation, append under a lock, never lose a line.

A records file is a CSV with one row per replication of a cell. Every row
carries its cell's *fingerprint* (a hash of the cell's full specification,
the seed and the code that computes it), so a resume reuses exactly the rows
that the current code would compute again:

* rows of other fingerprints (other settings, older code) are counted and
  left in place, never used and never deleted;
* a garbled row (wrong number of fields, a number that does not parse, a
  NaN or infinite value where a finite one is required, a line cut short by
  a kill) is reported by line number and recomputed;
* two rows for the same (fingerprint, replication) with different values are
  an error naming both lines; identical duplicates are counted;
* a file whose header is not this sweep's (another layout, an older version)
  is not appended to: the sweep writes a new file ``<path>.new`` and, once
  complete, moves the old file to ``<path>.old`` (or ``.old.1``, ...) and the
  new one to ``<path>``; ``fresh=True`` does the same on request;
* an exclusive lock (``<path>.lock``) keeps two sweeps from writing one file.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field

try:  # POSIX advisory locks; elsewhere files are not locked
    import fcntl
except ImportError:  # pragma: no cover - not on Linux
    fcntl = None

__all__ = ["RecordsFile", "RecordsReport", "RecordsConflictError", "RecordsLockedError"]


class RecordsConflictError(ValueError):
    """Two records of the same replication of the same cell disagree."""


class RecordsLockedError(RuntimeError):
    """Another sweep is writing the records file."""


@dataclass
class RecordsReport:
    """What a sweep did with its records file.

    Attributes
    ----------
    path : str or None
    reused : int
        Records read back and used (their fingerprint matches).
    computed : int
        Records computed by this sweep.
    ignored : int
        Records of other fingerprints (other settings or other code), left in the file.
    garbled : list of int
        Line numbers of rows that could not be read; their replications were recomputed.
    duplicates : int
        Identical repeated records (one was used).
    note : str
        How the file was handled (new file, resumed, written fresh).
    """

    path: str | None = None
    reused: int = 0
    computed: int = 0
    ignored: int = 0
    garbled: list = field(default_factory=list)
    duplicates: int = 0
    note: str = ""

    def __str__(self):
        parts = [f"{self.reused} reused", f"{self.computed} computed", f"{self.ignored} ignored"]
        if self.garbled:
            lines = ", ".join(map(str, self.garbled[:5])) + (" ..." if len(self.garbled) > 5 else "")
            parts.append(f"{len(self.garbled)} garbled (lines {lines})")
        if self.duplicates:
            parts.append(f"{self.duplicates} identical duplicates")
        where = f" in {self.path}" if self.path else ""
        return f"records{where}: " + ", ".join(parts) + (f" ({self.note})" if self.note else "")


def _number(text):
    value = float(text)
    if math.isfinite(value) and value.is_integer() and "." not in text and "e" not in text.lower():
        return int(text)
    return value


class RecordsFile:
    """One sweep's view of a records file.

    Parameters
    ----------
    path : str or path-like
    fields : list of str
        The header this sweep writes.
    numeric : set of str
        Fields parsed as numbers (``rep`` and the metrics).
    finite : set of str
        Fields that must be finite numbers (a NaN there marks the row garbled).
    fresh : bool
        Recompute into a new file even if this one matches.
    """

    def __init__(self, path, fields, numeric, finite, *, fresh=False):
        self.path = os.fspath(path)
        self.fields = list(fields)
        self.numeric = set(numeric)
        self.finite = set(finite)
        self.fresh = fresh
        self.new_path = self.path + ".new"
        self.report = RecordsReport(path=self.path)
        self._fh = self._writer = self._lock = None
        self._target = None

    # ----- lock --------------------------------------------------------------------------
    def _acquire(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"the folder of the records file {self.path!r} does not exist.")
        if os.path.isdir(self.path):
            raise IsADirectoryError(f"the records file {self.path!r} is a folder, not a file.")
        lock_path = self.path + ".lock"
        fh = open(lock_path, "a+")
        if fcntl is not None:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.seek(0)
                owner = fh.read().strip() or "unknown"
                fh.close()
                raise RecordsLockedError(
                    f"the records file {self.path!r} is being written by another sweep (process {owner}); "
                    "wait for it to finish or write to another file."
                ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._lock = fh

    def _release(self):
        if self._lock is not None:
            try:
                os.unlink(self.path + ".lock")
            except OSError:
                pass
            self._lock.close()  # closing the descriptor releases the flock
            self._lock = None

    # ----- read --------------------------------------------------------------------------
    def _read_file(self, path, wanted, index, lines_of):  # noqa: C901 - one pass, one row at a time
        """Read one file's usable records into ``index``; return (header, ends_with_newline)."""
        with open(path, "rb") as fh:
            data = fh.read()
        if not data:
            return None, True
        text = data.decode("utf-8", errors="replace")
        reader = csv.reader(io.StringIO(text))
        try:
            header = next(reader)
        except StopIteration:
            return None, True
        if "fingerprint" not in header:
            self.report.ignored += sum(1 for _ in reader)
            return header, data.endswith(b"\n")
        pos = {name: i for i, name in enumerate(header)}
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                self.report.garbled.append(line)
                continue
            fp = row[pos["fingerprint"]]
            if fp not in wanted:
                self.report.ignored += 1
                continue
            try:
                rec = {}
                for name, value in zip(header, row):
                    if name in self.numeric:
                        if value == "":
                            continue  # a field of another game of the sweep
                        rec[name] = _number(value)
                        if name in self.finite and not math.isfinite(rec[name]):
                            raise ValueError(f"{name} is {value}")
                    else:
                        rec[name] = value
                if not wanted[fp] <= rec.keys():
                    raise ValueError("a field of this record is missing")
                rep = int(rec["rep"])
                if rep < 0:
                    raise ValueError("negative replication")
            except (KeyError, ValueError):
                self.report.garbled.append(line)
                continue
            key = (fp, rep)
            if key in index:
                old = index[key]
                same = all(_same(old.get(k), rec.get(k)) for k in rec if k not in ("seconds",))
                if same:
                    self.report.duplicates += 1
                    continue
                raise RecordsConflictError(
                    f"{path} holds two different records of replication {rep} of cell {fp} "
                    f"(lines {lines_of[key]} and {line}); one of them is wrong: remove one of the "
                    "two lines (or move the file away) and run again."
                )
            index[key] = rec
            lines_of[key] = line
        return header, data.endswith(b"\n")

    def open(self, wanted):
        """Lock the file, read the usable records of the fingerprints ``wanted`` and prepare appending.

        ``wanted`` maps each fingerprint to the fields its records must hold.

        Returns
        -------
        dict
            ``(fingerprint, rep) -> record`` of every usable record.
        """
        self._acquire()
        try:
            index, lines_of = {}, {}
            header = None
            ends_ok = True
            if os.path.exists(self.path):
                header, ends_ok = self._read_file(self.path, wanted, index, lines_of)
            resuming_new = os.path.exists(self.new_path)
            if resuming_new:
                new_header, new_ok = self._read_file(self.new_path, wanted, index, lines_of)
                self._target, ends_ok = self.new_path, new_ok
                if new_header not in (None, self.fields):
                    raise RecordsConflictError(
                        f"{self.new_path} (an unfinished fresh run) has another layout; move it away and run again.")
                self.report.note = f"resumed the unfinished fresh run in {self.new_path}"
                header = new_header
            elif self.fresh or (header is not None and header != self.fields):
                self._target, ends_ok = self.new_path, True
                self.report.note = ("fresh run requested" if self.fresh else "the file has another layout") + \
                    f": writing {self.new_path}; the old file is kept"
                header = None
            else:
                self._target = self.path
            if self.fresh and not resuming_new:
                index.clear()  # recompute everything
            self._open_writer(write_header=header is None, newline_first=not ends_ok)
            return index
        except BaseException:
            self._release()
            raise

    def _open_writer(self, write_header, newline_first):
        self._fh = open(self._target, "a", newline="")
        if newline_first:
            self._fh.write("\n")  # a line cut short by a kill stays a (reported) garbled line
        self._writer = csv.DictWriter(self._fh, fieldnames=self.fields, extrasaction="raise")
        if write_header:
            self._writer.writeheader()
        self._fh.flush()

    # ----- write -------------------------------------------------------------------------
    def append(self, records):
        for r in records:
            self._writer.writerow(r)
        self._fh.flush()
        self.report.computed += len(records)

    def close(self, complete):
        """Close; a complete fresh run replaces the old file (which is kept as ``.old``)."""
        try:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
            if complete and self._target == self.new_path:
                if os.path.exists(self.path):
                    old = self.path + ".old"
                    k = 0
                    while os.path.exists(old):
                        k += 1
                        old = f"{self.path}.old.{k}"
                    os.replace(self.path, old)
                    self.report.note += f"; the previous file is now {old}"
                os.replace(self.new_path, self.path)
        finally:
            self._release()


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b
