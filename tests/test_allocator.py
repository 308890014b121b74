"""gansunews.allocator: with the threshold fixed, a large block gets its own mapping even after a larger one was
freed; with glibc's default policy it comes from the heap (which keeps it when freed). Each case in a fresh
process: the allocator's state is per process."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from tests.services import PROJECT

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")

# How many bytes of a 4 MiB block are mapped on their own (mallinfo2's hblkhd before and after the malloc), once a
# 16 MiB block has been freed (which raises glibc's own threshold past 4 MiB).
MAPPED = """
import ctypes, sys
from gansunews.allocator import fix_mmap_threshold

class Mallinfo2(ctypes.Structure):
    names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
    _fields_ = [(name, ctypes.c_size_t) for name in names.split()]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Mallinfo2
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "fixed":
    assert fix_mmap_threshold(1 << 20)
libc.free(libc.malloc(16 << 20))
before = libc.mallinfo2().hblkhd
block = libc.malloc(4 << 20)
print(libc.mallinfo2().hblkhd - before)
"""


def mapped_bytes(policy: str) -> int:
    env = {name: value for name, value in os.environ.items() if not name.startswith("MALLOC_")}  # glibc's own
    run = subprocess.run(
        [sys.executable, "-c", MAPPED, policy], cwd=PROJECT, env=env, capture_output=True, text=True, check=True
    )
    return int(run.stdout)


def test_a_fixed_threshold_maps_large_blocks_after_a_larger_was_freed():
    assert mapped_bytes("fixed") >= 4 << 20
    assert mapped_bytes("default") == 0  # the creep the fixed threshold prevents
