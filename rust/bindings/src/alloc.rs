//! Give big peer buffers back to the OS when they are freed.
//!
//! glibc raises its mmap threshold each time a large mmapped block is freed
//! (up to 32 MiB), after which 16 MiB frame buffers and decompressed
//! payloads come from the heap arena and stay in the process's RSS after the
//! peer that caused them is gone: 12 peers failing mid 16 MiB frame left
//! 160 MiB resident until `malloc_trim` (issue 12, item 3). A fixed
//! threshold turns that adaptation off, so every block of at least
//! [`BIG_BLOCK`] is its own mapping and is unmapped on free.

/// Blocks at least this large are mmapped (and unmapped on free). Smaller
/// ones stay on the fast heap path: at 1 MiB every multi-MiB message or
/// batch paid an mmap, a page fault per 4 KiB and an munmap (seal+open of
/// 4 MiB batches took 1.2x the CPU time of the same code without it); 8 MiB
/// keeps those on the heap, while the near-16 MiB frames and snappy outputs
/// the attacks use stay mappings.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const BIG_BLOCK: libc::c_int = 8 << 20;

/// Free memory at the top of the heap kept for reuse rather than trimmed: a
/// fixed mmap threshold leaves the trim threshold at 128 KiB, and every
/// multi-MiB message would then shrink and regrow the heap (page faults
/// again). glibc's own dynamic rule is the same 2x of the mmap threshold.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const HEAP_TOP_KEPT: libc::c_int = 2 * BIG_BLOCK;

/// Called once at module import.
pub(crate) fn return_big_buffers_to_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning parameters; it is
    // thread-safe in glibc and takes no pointers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, BIG_BLOCK);
        libc::mallopt(libc::M_TRIM_THRESHOLD, HEAP_TOP_KEPT);
    }
}
