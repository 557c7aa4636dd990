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
//     base                 data - 16   data - 8    data
//     | (0 to PAGE bytes)  | base ptr  | size      | the array's data ...
//
// `base` comes from `posix_memalign`; the two words before the data hold
// the block's start (what `free` gives back) and the data's size in bytes
// (what `realloc` copies and `free` keeps by). The data starts at the
// offset within a 4 KiB page, to 16 bytes, of the input it is computed from
// ([`for_results`]). Why: machine code streams the output with
// non-temporal stores while it loads the inputs a few lines ahead, and an
// output that sits one cache line past its inputs within a page makes each
// load look, to the CPU's store-forwarding check (which compares an
// address's low 12 bits), like it depends on the store just made: "4K
// aliasing". Measured (`benches/output_offset.py`) with `out=` arrays at chosen offsets from NumPy
// inputs (N = 10M, same run, fastest of 40 calls): at the inputs' page
// offset `2*a**3 - 4*a**5 + 6*log(a)` on two threads took 0.583 ns an
// element, one line (64 bytes) past it 0.697 (a later run: 0.530 and
// 0.555), half a page past it 0.652;
// `arctan2(a, b) + tanh(a*b)` on one thread 2.505 against 2.633 one line
// past. Matching only the offset within a cache line, as this allocator
// did first, left results one line past their inputs. Buffers below
// KEPT_FROM follow the inputs within a cache line only (up to 48 bytes of
// padding instead of up to 4 KiB: many small arrays stay small).

/// Bytes of bookkeeping right before the data: the block's start and the
/// data's size.
const HEADER: usize = 16;
/// A page: the data's offset within one follows the inputs'.
const PAGE: usize = 4096;
/// A cache line: what a small buffer's data offset follows.
const LINE: usize = 64;

/// The span whose offset a buffer of `size` bytes follows: the padding it
/// may need is `span - 16` bytes.
fn span_for(size: usize) -> usize {
    if size >= KEPT_FROM { PAGE } else { LINE }
}

thread_local! {
    /// Where in a page the next result's data starts, to 16 bytes (see
    /// above).
    static PLACE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The block's start and the data's size recorded before `data`.
///
/// # Safety
///
/// `data` is a live pointer from this allocator.
unsafe fn header_of(data: *mut c_void) -> (*mut c_void, usize) {
    let words = data.cast::<usize>();
    // SAFETY: `data_of` wrote both words right before the data, inside the
    // block, which is still allocated (the caller's contract); `data` is
    // 16-aligned, so they are aligned usizes.
    unsafe { (words.sub(2).read() as *mut c_void, words.sub(1).read()) }
}

/// The data pointer of a buffer at `base` for data of `size` bytes, at this
/// thread's place within its span ([`span_for`]); writes the header.
///
/// # Safety
///
/// `base` is a 16-aligned block of at least `HEADER + span_for(size) +
/// size` bytes from `posix_memalign`.
unsafe fn data_of(base: *mut c_void, size: usize) -> *mut c_void {
    let span = span_for(size);
    let first = base as usize + HEADER;
    // The first address at or after `first` whose offset in the span is
    // PLACE's: at most span - 16 bytes further, so inside the block.
    let data = first + (PLACE.get() % span + span - first % span) % span;
    let words = data as *mut usize;
    // SAFETY: both words lie between `base` and `data` (data - 16 >= base),
    // inside the block, aligned (data is 16-aligned as base and PLACE are).
    unsafe {
        words.sub(2).write(base as usize);
        words.sub(1).write(size);
    }
    data as *mut c_void
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
    let Some(block) = size.checked_add(HEADER + span_for(size)) else {
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

/// `realloc`: a new block at the same place in its page, with the old
/// data's first `size` bytes; the old block is freed.
unsafe extern "C" fn kept_realloc(ctx: *mut c_void, data: *mut c_void, size: usize) -> *mut c_void {
    if data.is_null() {
        // SAFETY: this allocator's `malloc`.
        return unsafe { kept_malloc(ctx, size) };
    }
    let before = PLACE.replace(data as usize % PAGE);
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
        let (_, old) = header_of(data);
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
    let (base, size) = unsafe { header_of(data) };
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
/// Their data starts at `like`'s offset within a 4 KiB page, to 16 bytes
/// (NumPy's alignment for every dtype): pass the address of the input the
/// result is computed from.
pub fn for_results(py: Python<'_>, like: usize) -> Guard<'_> {
    let Some(installed) = installed(py) else {
        return Guard { py, previous: None };
    };
    PLACE.set((like % PAGE) & !15);
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
