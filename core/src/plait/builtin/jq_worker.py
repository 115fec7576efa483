"""The process that runs jq programs for :mod:`plait.builtin.jq_runner`.

Run as a script (``python -I jq_worker.py PARENT_PID MEMORY_BYTES``) so that it imports nothing
of plait: it starts fast, sees an empty environment, and its memory is capped, since a jq
program such as ``[range(1e9)]`` or ``def f: f; f`` runs in C where no check can reach it. The
parent kills it when time runs out.

Protocol, on stdin/stdout: a request is two little-endian u32 lengths then the program and the
input text (UTF-8); a reply is a u64 length then a status byte (0 results as a JSON list,
1 error message, 2 out of memory) and its payload.
"""

import contextlib
import ctypes
import json
import os
import resource
import signal
import struct
import sys

COMPILED_KEPT = 256


def die_with_parent(parent: int) -> None:
    """Be killed when the thread that started this process ends (Linux), or exit now if the
    parent is already gone."""
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        sys.exit(0)


def reply(out, status: int, payload: bytes) -> None:
    out.write(struct.pack("<QB", len(payload) + 1, status) + payload)
    out.flush()


def serve() -> None:
    parent, memory = int(sys.argv[1]), int(sys.argv[2])
    die_with_parent(parent)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    import jq

    source, out = sys.stdin.buffer, sys.stdout.buffer
    compiled: dict = {}
    while True:
        header = source.read(8)
        if len(header) < 8:
            return
        program_size, text_size = struct.unpack("<II", header)
        program = source.read(program_size).decode()
        text = source.read(text_size).decode()
        try:
            if program not in compiled:
                if len(compiled) >= COMPILED_KEPT:
                    compiled.clear()
                compiled[program] = jq.compile(program)
            results = compiled[program].input_text(text).all()
            reply(out, 0, json.dumps(results, ensure_ascii=False).encode())
        except MemoryError:
            reply(out, 2, b"")
        except Exception as error:  # jq's compile and runtime errors
            reply(out, 1, str(error).encode())


if __name__ == "__main__":
    serve()
