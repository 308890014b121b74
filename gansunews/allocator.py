"""glibc's malloc told to map large blocks on their own, so that freeing one gives its memory back.

By default glibc raises its mmap threshold to the size of the largest mapped block freed so far (up to 32 MiB),
and its trim threshold to twice that. A crawl frees large numpy arrays all the time (the repost index and the id
sets grow by doubling or merging): after the first, every later one is carved from the heap, and the heap keeps up
to 64 MiB of freed memory. RSS then grows with the crawl while Python's own memory stays flat (measured with
tracemalloc; the figures are in the README). A fixed threshold turns that adjustment off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import platform

logger = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # malloc.h


def fix_mmap_threshold(size: int) -> bool:
    """Blocks of `size` bytes or more get their own mapping from now on; True when glibc took the setting (False
    elsewhere: other C libraries have their own policies, and nothing is changed)."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        return bool(libc.mallopt(M_MMAP_THRESHOLD, ctypes.c_int(size)))
    except (OSError, AttributeError) as error:
        logger.debug("mallopt not available: %s", error)
        return False
