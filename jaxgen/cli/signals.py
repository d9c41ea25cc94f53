"""Clean, prompt stops on SIGINT (Ctrl-C) and SIGTERM for the ``jaxgen`` console command.

Python runs a signal handler only when the main thread returns to the interpreter, which a
compiled sampler or solver may not do for minutes. So the signals are also written to a pipe
(``signal.set_wakeup_fd``) that a watcher thread reads: it removes the open staging folders
(:func:`jaxgen.io.output.discard_staging`), prints one line and ends the process at once with the
shell's status for the signal, 128 + its number (130 for SIGINT, 143 for SIGTERM), without a
traceback and without waiting for the computation.
"""

from __future__ import annotations

import os
import signal
import threading

from jaxgen.cli.common import interrupted
from jaxgen.io.output import discard_staging

__all__ = ["install_stop_handlers"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def install_stop_handlers(command: str) -> None:
    """Stop ``jaxgen COMMAND`` cleanly on SIGINT/SIGTERM (call once, from the main thread)."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    for signum in _SIGNALS:
        signal.signal(signum, _leave_to_the_watcher)
    threading.Thread(target=_watch, args=(read_end, command), name="jaxgen-signals", daemon=True).start()


def _leave_to_the_watcher(signum, frame) -> None:
    """The Python-level handler: the watcher thread has already acted (or is acting)."""


def _watch(read_end: int, command: str) -> None:
    while True:
        signum = os.read(read_end, 1)[0]
        if signum in _SIGNALS:
            removed = discard_staging()
            os._exit(interrupted(command, signal.Signals(signum).name, bool(removed)))
