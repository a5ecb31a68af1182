//! Telling an abort for lack of memory from any other crash, without
//! trusting anything a model could make the child print: [`OomAware`], the
//! `gauntlet` binary's global allocator, is the system allocator plus one
//! branch: when an allocation fails in an armed child it writes `oom` to the
//! marker file the parent named before Rust aborts the process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::os::fd::IntoRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

/// The marker's file descriptor; -1 while unarmed.
static MARKER_FD: AtomicI32 = AtomicI32::new(-1);

/// The system allocator, reporting failed allocations to the sandbox's
/// marker file once armed (a no-op otherwise).
pub struct OomAware;

impl OomAware {
    fn report() {
        let fd = MARKER_FD.load(Ordering::Relaxed);
        if fd >= 0 {
            let msg = b"oom\n";
            // SAFETY: `fd` is a file descriptor this process opened for
            // writing and never closes; `msg` is a valid buffer. write(2)
            // allocates nothing, so it is safe inside a failing allocation.
            unsafe {
                libc::write(fd, msg.as_ptr().cast(), msg.len());
            }
        }
    }
}

// SAFETY: every method forwards to `System` unchanged; the only addition is
// an async-signal-safe write(2) when `System` returns null.
unsafe impl GlobalAlloc for OomAware {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            Self::report();
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            Self::report();
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            Self::report();
        }
        p
    }
}

/// Arms the report: a failed allocation from now on appends `oom` to
/// `marker`. Best effort: a marker that cannot be opened leaves it unarmed.
pub(crate) fn arm(marker: &Path) {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(marker);
    match file {
        Ok(f) => MARKER_FD.store(f.into_raw_fd(), Ordering::Relaxed),
        Err(e) => {
            tracing::warn!(error = %e, marker = %marker.display(), "cannot arm the OOM marker")
        }
    }
}

/// Whether the child reported running out of memory in `marker`.
pub(crate) fn reported(marker: &Path) -> bool {
    std::fs::metadata(marker).is_ok_and(|m| m.len() > 0)
}
