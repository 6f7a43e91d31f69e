"""Model work as a good neighbour: the calling thread yields the CPU and the disk to the user.

On Linux a thread is a task of its own, so its niceness and I/O class can be set apart from
the rest of the process: the daemon's model thread runs behind the threads that answer the
page and the commands. Where the system refuses (no capability, another OS), the thread
simply keeps its priority.
"""

from __future__ import annotations

import os
import threading


def lower_thread_priority(nice: int = 10, idle_io: bool = True) -> list[str]:
    """Raise the calling thread's niceness by ``nice`` (at most 19) and, with ``idle_io``, put
    its disk reads in the idle I/O class. Returns what was applied, e.g. ['nice 10', 'io idle']."""
    import psutil

    done: list[str] = []
    try:
        me = psutil.Process(threading.get_native_id())  # the thread's own task, not the process
    except (psutil.Error, OSError):
        return done
    if nice > 0:
        try:
            target = min(19, me.nice() + nice)
            me.nice(target)
            done.append(f"nice {target}")
        except (psutil.Error, OSError):
            pass
    if idle_io and hasattr(psutil, "IOPRIO_CLASS_IDLE"):
        try:
            me.ionice(psutil.IOPRIO_CLASS_IDLE)
            done.append("io idle")
        except (psutil.Error, OSError, ValueError):
            pass
    return done


def thread_priority() -> tuple[int, str]:
    """The calling thread's niceness and I/O class name (for tests and for `clusterids config`)."""
    import psutil

    me = psutil.Process(threading.get_native_id())
    io = me.ionice().ioclass if hasattr(me, "ionice") else None
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), getattr(io, "name", str(io))
