"""``logToFile``: a task's log lines kept in one file per attempt, stored with the task run's
files, instead of one row each in the logs (Kestra stores them the same way, for tasks that
log a lot). The lines still reach the console of ``plait run``; the logs keep one line that
names the file, and the attempt records its URI (``logFile``, as in Kestra's attempts)."""

from __future__ import annotations

import tempfile
import threading
from typing import IO

from plait.state.model import LogEntry, format_datetime
from plait.storage.internal import TaskRunStorage


class LogFile:
    """The lines of one attempt, in a temporary file until the attempt ends."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - open until store()
        self._lock = threading.Lock()  # tasks log from several threads (stdout and stderr)

    def write(self, entry: LogEntry) -> None:
        line = f"{format_datetime(entry.timestamp)} {entry.level} {entry.message}\n"
        with self._lock:
            self._file.write(line.encode("utf-8"))

    def store(self, storage: TaskRunStorage, name: str) -> str | None:
        """Store the lines as ``name`` among the task run's files and close the file; None
        when the attempt logged nothing."""
        with self._lock:
            try:
                if self._file.tell() == 0:
                    return None
                self._file.seek(0)
                return storage.put_stream(name, self._file)
            finally:
                self._file.close()
