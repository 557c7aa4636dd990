//! Large result buffers kept for the next result, through NumPy's own
//! allocator hook.
//!
//! In: the result arrays `run.rs` allocates (with [`for_results`] in force).
//! Out: the same arrays, whose memory NumPy gets from, and gives back to,
//! this module's allocator: a buffer of at least [`KEPT_FROM`] bytes that
//! NumPy frees is kept (a few, at most [`KEPT_AT_MOST`] bytes in all) and
//! handed out again for the next result of the same size.
//!
//! Why: glibc returns allocations above 32 MiB to the kernel when they are
//! freed, and the kernel zeroes the pages of the next one as they are first
//! written. At N = 10M float64 that zeroing took longer than the evaluation
//! itself (`2*a + 3*b`: 2.9 ns an element with a new output against 1.35
//! into a reused one, `benches/python_bench.py`), so a loop of `evaluate`
//! calls over large arrays ran at half the engine's speed.
//!
//! How: NumPy (1.22+) lets a library set the allocator of the arrays made
//! while it is in force (`PyDataMem_SetHandler`, a context variable) and
//! remembers each array's allocator for its `free`. The arrays are ordinary
//! arrays that own their data (`flags.owndata`, `base is None`); only the
//! allocator behind them differs. Kept buffers hold memory after `del`: at
//! most [`KEPT_BUFFERS`] of them and [`KEPT_AT_MOST`] bytes, released by
//! `vexpr.release_memory()` ([`release_memory`]).

use pyo3::ffi;
use pyo3::prelude::*;
use std::ffi::{CStr, c_void};
use std::sync::Mutex;

/// Results at least this large get their memory here, are placed like
/// their inputs and are kept when freed. It is the size from which machine
/// code writes an output with non-temporal stores; smaller buffers cost
/// little to get anew (glibc reuses them itself).
pub const KEPT_FROM: usize = 4 << 20;
/// How many buffers are kept at most.
pub const KEPT_BUFFERS: usize = 4;
/// Bytes kept at most.
pub const KEPT_AT_MOST: usize = 1 << 30;

/// The kept buffers: (block, data size in bytes), each block from
/// `posix_memalign`.
static KEPT: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

/// NumPy's `PyDataMemAllocator`.
#[repr(C)]
struct Allocator {
    ctx: *mut c_void,
    malloc: unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
    calloc: unsafe extern "C" fn(*mut c_void, usize, usize) -> *mut c_void,
    realloc: unsafe extern "C" fn(*mut c_void, *mut c_void, usize) -> *mut c_void,
    free: unsafe extern "C" fn(*mut c_void, *mut c_void, usize),
}

/// NumPy's `PyDataMem_Handler` (version 1).
#[repr(C)]
struct Handler {
    name: [u8; 127],
    version: u8,
    allocator: Allocator,
}

// SAFETY: the handler is immutable after construction and its context
// pointer is null (never dereferenced); NumPy only reads it.
unsafe impl Sync for Handler {}

const fn name() -> [u8; 127] {
    let mut out = [0u8; 127];
    let text = b"vexpr_kept_results";
    let mut i = 0;
    while i < text.len() {
        out[i] = text[i];
        i += 1;
    }
    out
}

static HANDLER: Handler = Handler {
    name: name(),
    version: 1,
    allocator: Allocator {
        ctx: std::ptr::null_mut(),
        malloc: kept_malloc,
        calloc: kept_calloc,
        realloc: kept_realloc,
        free: kept_free,
    },
};

// Every buffer this allocator hands out is laid out alike:
//
//     base (64-aligned)   base + HEADER        base + HEADER + place
//     | size: usize ...   | place bytes          | the array's data ...
//
// `base` comes from `posix_memalign`, the header's first word holds the
// data's size in bytes (what `realloc` copies and `free` keeps by), and
// `place` (0, 16, 32 or 48) puts the data at the address modulo 64 of the
// inputs it is computed from ([`for_results`]). Why: machine code writes a
// large output with non-temporal stores from its first 64-byte boundary on,
// and when the inputs sit at the same offset within their cache lines
// every vector load is then aligned too. NumPy's inputs start 16 bytes into
// a line (glibc's large blocks); an output at another offset made
// `sin(a)**2 + cos(b)**2` at N = 1M (one thread) 6-11% slower (1.34-1.41
// ns an element against 1.27, `out=` arrays at every offset, same run).

/// Bytes before the data's cache line: the header line.
const HEADER: usize = 64;
/// The most `place` adds.
const MAX_PLACE: usize = 48;

thread_local! {
    /// Where in a cache line the next result's data starts (see above).
    static PLACE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The start of the block behind `data`, one of this allocator's pointers.
fn base_of(data: *mut c_void) -> *mut c_void {
    ((data as usize - HEADER) & !63) as *mut c_void
}

/// The data pointer of a buffer at `base` for data of `size` bytes: writes
/// the header, applies this thread's place.
///
/// # Safety
///
/// `base` is a 64-aligned block of at least `HEADER + MAX_PLACE + size`
/// bytes from `posix_memalign`.
unsafe fn data_of(base: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: the header's first word lies inside the block and `base` is
    // aligned for a usize (the caller's contract).
    unsafe { base.cast::<usize>().write(size) };
    (base as usize + HEADER + PLACE.get()) as *mut c_void
}

/// The data size recorded in the header of the block behind `data`.
///
/// # Safety
///
/// `data` is a live pointer from this allocator.
unsafe fn size_of_data(data: *mut c_void) -> usize {
    // SAFETY: the block's header was written by `data_of` and is still
    // allocated (the caller's contract).
    unsafe { base_of(data).cast::<usize>().read() }
}

/// `malloc`: a kept buffer for exactly `size` bytes if there is one, else a
/// new block.
unsafe extern "C" fn kept_malloc(_: *mut c_void, size: usize) -> *mut c_void {
    if size >= KEPT_FROM {
        let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = kept.iter().position(|&(_, s)| s == size) {
            let base = kept.swap_remove(i).0 as *mut c_void;
            // SAFETY: a kept block was made below for this `size`.
            return unsafe { data_of(base, size) };
        }
    }
    let Some(block) = size.checked_add(HEADER + MAX_PLACE) else {
        return std::ptr::null_mut();
    };
    // Large buffers are aligned to a huge page and advised to use them: a
    // pass over tens of MB then misses the TLB far less.
    let align = if size >= KEPT_FROM { HUGE_PAGE } else { 64 };
    let mut base = std::ptr::null_mut();
    // SAFETY: `base` is written only on success; the alignment is a power of
    // two and a multiple of the pointer size, as `posix_memalign` requires.
    if unsafe { libc::posix_memalign(&mut base, align, block) } != 0 {
        return std::ptr::null_mut();
    }
    if size >= KEPT_FROM {
        advise_huge_pages(base, block);
    }
    // SAFETY: `base` is a new 64-aligned block of `block` bytes.
    unsafe { data_of(base, size) }
}

/// A transparent huge page on x86-64 and most ARM kernels.
const HUGE_PAGE: usize = 2 << 20;

/// Asks for transparent huge pages over the whole pages of a new buffer, as
/// NumPy's own allocator does for large arrays (a hint: its failure changes
/// nothing).
fn advise_huge_pages(ptr: *mut c_void, size: usize) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = (ptr as usize).next_multiple_of(PAGE);
        let end = (ptr as usize + size) / PAGE * PAGE;
        if end > start {
            // SAFETY: the range is whole pages inside the buffer just
            // allocated (and so mapped); MADV_HUGEPAGE changes no contents.
            unsafe {
                libc::madvise(start as *mut c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, size);
}

/// `calloc`: a new block, zeroed.
unsafe extern "C" fn kept_calloc(ctx: *mut c_void, n: usize, size: usize) -> *mut c_void {
    let Some(bytes) = n.checked_mul(size) else {
        return std::ptr::null_mut();
    };
    // SAFETY: this allocator's `malloc`.
    let data = unsafe { kept_malloc(ctx, bytes) };
    if !data.is_null() {
        // SAFETY: `data` is `bytes` writable bytes just allocated.
        unsafe { data.cast::<u8>().write_bytes(0, bytes) };
    }
    data
}

/// `realloc`: a new block at the same place in its line, with the old
/// data's first `size` bytes; the old block is freed.
unsafe extern "C" fn kept_realloc(ctx: *mut c_void, data: *mut c_void, size: usize) -> *mut c_void {
    if data.is_null() {
        // SAFETY: this allocator's `malloc`.
        return unsafe { kept_malloc(ctx, size) };
    }
    let place = (data as usize) & 63;
    let before = PLACE.replace(place);
    // SAFETY: this allocator's `malloc`.
    let new = unsafe { kept_malloc(ctx, size) };
    PLACE.set(before);
    if new.is_null() {
        return new; // `realloc` leaves the old block as it was
    }
    // SAFETY: `data` came from this allocator (NumPy's contract) and is
    // live, so its header holds its size; the two blocks are distinct and
    // each holds at least the bytes copied.
    unsafe {
        let old = size_of_data(data);
        std::ptr::copy_nonoverlapping(data.cast::<u8>(), new.cast::<u8>(), old.min(size));
        kept_free(ctx, data, old);
    }
    new
}

/// `free`: keeps a large buffer while there is room, frees the rest.
unsafe extern "C" fn kept_free(_: *mut c_void, data: *mut c_void, _numpy_size: usize) {
    if data.is_null() {
        return;
    }
    // SAFETY: `data` came from this allocator and is freed once (NumPy's
    // contract), so its header is intact.
    let size = unsafe { size_of_data(data) };
    let base = base_of(data);
    if size >= KEPT_FROM {
        let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
        let held: usize = kept.iter().map(|&(_, s)| s).sum();
        if kept.len() < KEPT_BUFFERS && held + size <= KEPT_AT_MOST {
            kept.push((base as usize, size));
            return;
        }
    }
    // SAFETY: `base` is the block `posix_memalign` gave for `data`.
    unsafe { libc::free(base) }
}

/// `vexpr.release_memory()`: frees the result buffers kept for reuse and
/// returns how many bytes that gave back.
///
/// ```python
/// >>> import vexpr
/// >>> vexpr.release_memory() >= 0
/// True
/// ```
#[pyfunction]
pub fn release_memory() -> usize {
    release()
}

/// Frees every kept buffer; the bytes given back.
pub fn release() -> usize {
    let kept = std::mem::take(&mut *KEPT.lock().unwrap_or_else(|e| e.into_inner()));
    let mut bytes = 0;
    for (ptr, size) in kept {
        bytes += size;
        // SAFETY: each kept block came from `posix_memalign` and is owned by
        // the list it was just taken from.
        unsafe { libc::free(ptr as *mut c_void) };
    }
    bytes
}

/// NumPy's `PyDataMem_SetHandler`, from its C API table.
type SetHandler = unsafe extern "C" fn(*mut ffi::PyObject) -> *mut ffi::PyObject;

/// The handler capsule and NumPy's setter, made once.
struct Installed {
    capsule: Py<PyAny>,
    set: SetHandler,
}

static INSTALLED: std::sync::OnceLock<Option<Installed>> = std::sync::OnceLock::new();

/// `PyDataMem_SetHandler`'s index in NumPy's C API table (numpy/_core/code_generators/numpy_api.py).
const SET_HANDLER_SLOT: usize = 304;

fn installed(py: Python<'_>) -> Option<&'static Installed> {
    INSTALLED
        .get_or_init(|| {
            let numpy = py.import("numpy").ok()?;
            let version: String = numpy.getattr("__version__").ok()?.extract().ok()?;
            let major: u32 = version.split('.').next()?.parse().ok()?;
            let module = if major >= 2 {
                "numpy._core._multiarray_umath"
            } else {
                "numpy.core._multiarray_umath"
            };
            let api = py.import(module).ok()?.getattr("_ARRAY_API").ok()?;
            // SAFETY: `_ARRAY_API` is NumPy's capsule of its C API table (a
            // `void **`), alive as long as NumPy is imported (for good); the
            // slot is `PyDataMem_SetHandler` in every NumPy from 1.22 on
            // (the package needs 1.23).
            let set: SetHandler = unsafe {
                let table = ffi::PyCapsule_GetPointer(api.as_ptr(), std::ptr::null())
                    as *const *const c_void;
                if table.is_null() {
                    ffi::PyErr_Clear();
                    return None;
                }
                std::mem::transmute::<*const c_void, SetHandler>(*table.add(SET_HANDLER_SLOT))
            };
            const NAME: &CStr = c"mem_handler";
            // SAFETY: a capsule of the static handler under the name NumPy
            // requires; no destructor (the handler is never freed).
            let capsule = unsafe {
                let ptr = ffi::PyCapsule_New(
                    std::ptr::from_ref(&HANDLER) as *mut c_void,
                    NAME.as_ptr(),
                    None,
                );
                Bound::from_owned_ptr_or_opt(py, ptr)?.unbind()
            };
            Some(Installed { capsule, set })
        })
        .as_ref()
}

/// Makes this module's allocator NumPy's for the arrays made until the
/// guard is dropped (on this thread's context); nothing if NumPy cannot.
/// Their data starts at `like`'s offset within a 64-byte line, to 16 bytes
/// (NumPy's alignment for every dtype): pass the address of the input the
/// result is computed from.
pub fn for_results(py: Python<'_>, like: usize) -> Guard<'_> {
    let Some(installed) = installed(py) else {
        return Guard { py, previous: None };
    };
    PLACE.set(like & 63 & !15);
    // SAFETY: the GIL is held; `set` is NumPy's `PyDataMem_SetHandler`,
    // given a handler capsule; it returns a new reference to the previous
    // handler (or null with an exception).
    let previous = unsafe {
        let old = (installed.set)(installed.capsule.as_ptr());
        if old.is_null() {
            ffi::PyErr_Clear();
            None
        } else {
            Some(Bound::from_owned_ptr(py, old).unbind())
        }
    };
    Guard { py, previous }
}

/// Restores NumPy's previous allocator when dropped.
pub struct Guard<'py> {
    py: Python<'py>,
    previous: Option<Py<PyAny>>,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        PLACE.set(0);
        if let (Some(previous), Some(installed)) = (self.previous.take(), installed(self.py)) {
            // SAFETY: as in `for_results`, restoring the handler it replaced.
            unsafe {
                let ours = (installed.set)(previous.as_ptr());
                if ours.is_null() {
                    ffi::PyErr_Clear();
                } else {
                    ffi::Py_DECREF(ours);
                }
            }
        }
    }
}
