"""Arrow's allocator for the length of an ingest run.

Ingest allocates and frees Arrow buffers of the same sizes over and over (lines of a block, their trimmed
text, mapped batches, segments being written). Arrow's default allocator (mimalloc) hands freed memory
back to the kernel within milliseconds, and the kernel then zeroes the same pages again on the next
allocation: page faults took 10-20% of ingest's CPU time. During a run Arrow allocates from jemalloc with
purging off, so freed buffers are reused; afterwards the default allocator is back and jemalloc purges
again. Peak memory is unchanged (the same buffers are alive at once), only their reuse is.
"""

from __future__ import annotations

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
