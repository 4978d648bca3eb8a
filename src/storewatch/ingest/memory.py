"""Memory behaviour for the length of an ingest run: Arrow's allocator, and Python's garbage collector.

Ingest allocates and frees Arrow buffers of the same sizes over and over (lines of a block, their trimmed
text, mapped batches, segments being written). Arrow's default allocator (mimalloc) hands freed memory
back to the kernel within milliseconds, and the kernel then zeroes the same pages again on the next
allocation: page faults took 10-20% of ingest's CPU time. During a run Arrow allocates from jemalloc with
purging off, so freed buffers are reused; afterwards the default allocator is back and jemalloc purges
again. Peak memory is unchanged (the same buffers are alive at once), only their reuse is.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

import pyarrow as pa

_DECAY_MS = 1000  # jemalloc's purge delay in pyarrow unless told otherwise


@contextmanager
def reused_memory() -> Iterator[None]:
    """Keep Arrow's freed memory for reuse while the block runs; a no-op without jemalloc."""
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        yield
        return
    previous = pa.default_memory_pool()
    pa.jemalloc_set_decay_ms(-1)
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)
        pa.jemalloc_set_decay_ms(_DECAY_MS)


@contextmanager
def old_objects_left_alone() -> Iterator[None]:
    """Keep the garbage collector off the objects that exist when the block starts (modules, caches, the
    caller's data) until it ends. A full collection visits every tracked object; the one a run triggers
    (while a large JSON document becomes Python objects) spent 60-170 ms on the process's older ones,
    measured with gc.callbacks; frozen, 30-40 ms. The objects go back to the collector afterwards; a
    process that froze objects itself is left as it is."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
