//! Executable memory for generated code, without a system call per program.
//!
//! In: a program's code bytes. Out: [`ExecCode`], those bytes at an
//! executable address, released when the last code in their chunk is
//! dropped.
//!
//! Why: a fresh mapping made executable with `mprotect` makes the kernel
//! flush that range from the TLB of every core running the process, by an
//! inter-processor interrupt. On the project machine (a virtual machine)
//! that interrupt cost the caller's thread 15-35 µs for every program the
//! code generator's thread finished while the caller was running, which is
//! what the call that handed a program over paid (`examples/codegen_latency`
//! measured 19-29 µs at AVX-512, 28-40 at AVX2; 2-10 without the
//! `mprotect`), and about half of the generation time itself.
//!
//! How (Linux): the code lives in a memory file (`memfd_create`) mapped
//! twice, once readable and writable, once readable and executable, in
//! chunks of [`CHUNK`] bytes. Code is written through the first view and run
//! through the second; no page ever changes its protection, and no page is
//! writable and executable in one view. Each program's code takes the next
//! free bytes of the current chunk (never reused), so code that another
//! thread may be running is never written again. The current chunk is per
//! process (`crate::process`): after `fork` the two views are shared with
//! the parent, so a child appending to them could write over the parent's
//! new code. Elsewhere, or if the memory file cannot be mapped executable
//! (a strict security policy), each program gets a mapping of its own made
//! executable with `mprotect`, as before.

use crate::process::PerProcess;
use memmap2::{Mmap, MmapMut};
use std::sync::{Arc, Mutex, PoisonError};

/// Bytes mapped at a time (code larger than this gets a chunk of its own).
const CHUNK: usize = 256 << 10;

/// Where each program's code starts: a cache line.
const ALIGN: usize = 64;

/// A program's code in executable memory.
pub(super) struct ExecCode {
    /// What keeps the bytes mapped.
    _owner: Owner,
    start: *const u8,
    len: usize,
}

// SAFETY: the code is immutable once made (its bytes are never written
// again: chunks only grow into free space), so it may be read and run from
// any thread; `start` points into memory that `_owner` keeps mapped.
unsafe impl Send for ExecCode {}
// SAFETY: as above.
unsafe impl Sync for ExecCode {}

enum Owner {
    #[cfg(target_os = "linux")]
    Chunk(#[allow(dead_code)] Arc<Chunk>),
    Mapping(#[allow(dead_code)] Mmap),
}

impl ExecCode {
    /// `bytes` in executable memory, or `None` if no memory can be mapped.
    pub(super) fn new(bytes: &[u8]) -> Option<ExecCode> {
        #[cfg(target_os = "linux")]
        if let Some(code) = in_chunk(bytes) {
            return Some(code);
        }
        let mut map = MmapMut::map_anon(bytes.len()).ok()?;
        map.copy_from_slice(bytes);
        let map = map.make_exec().ok()?;
        Some(ExecCode {
            start: map.as_ptr(),
            len: map.len(),
            _owner: Owner::Mapping(map),
        })
    }

    /// The address of the code's first byte (executable, `len` bytes long).
    pub(super) fn as_ptr(&self) -> *const u8 {
        self.start
    }

    /// The code's length in bytes.
    pub(super) fn len(&self) -> usize {
        self.len
    }
}

/// One memory file mapped twice: `write` (read + write) and `run` (read +
/// execute) views of the same `len` bytes.
#[cfg(target_os = "linux")]
struct Chunk {
    write: *mut u8,
    run: *const u8,
    len: usize,
}

// SAFETY: the views are plain memory; writes go only to bytes no code has
// been handed out for yet, under the allocator's lock (`Chunks`).
#[cfg(target_os = "linux")]
unsafe impl Send for Chunk {}
// SAFETY: as above.
#[cfg(target_os = "linux")]
unsafe impl Sync for Chunk {}

#[cfg(target_os = "linux")]
impl Chunk {
    /// A new chunk of at least `min` bytes, or `None` if the system refuses.
    fn new(min: usize) -> Option<Chunk> {
        let len = min.max(CHUNK).next_multiple_of(4096);
        // SAFETY: a plain system call with a NUL-terminated name.
        let fd = unsafe { libc::memfd_create(c"vexpr-jit".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        let map = |prot| {
            // SAFETY: a new shared mapping of `fd`'s first `len` bytes at an
            // address the kernel picks: it aliases no Rust object.
            let p = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, libc::MAP_SHARED, fd, 0) };
            (p != libc::MAP_FAILED).then_some(p.cast::<u8>())
        };
        // SAFETY: sizes the file this function made (and owns).
        let sized = unsafe { libc::ftruncate(fd, len as libc::off_t) } == 0;
        let write = sized
            .then(|| map(libc::PROT_READ | libc::PROT_WRITE))
            .flatten();
        let run = write.and_then(|_| map(libc::PROT_READ | libc::PROT_EXEC));
        // SAFETY: closes the descriptor made above; the mappings stay valid.
        unsafe { libc::close(fd) };
        match (write, run) {
            (Some(write), Some(run)) => Some(Chunk {
                write,
                run: run.cast_const(),
                len,
            }),
            (Some(write), None) => {
                // SAFETY: unmaps the view mapped just above, used by nothing.
                unsafe { libc::munmap(write.cast(), len) };
                None
            }
            _ => None,
        }
    }
}

#[cfg(target_os = "linux")]
impl Drop for Chunk {
    fn drop(&mut self) {
        // SAFETY: the views were mapped by `Chunk::new` with this length, and
        // no code in the chunk is left (each `ExecCode` holds an `Arc` of its
        // chunk).
        unsafe { libc::munmap(self.write.cast(), self.len) };
        // SAFETY: as above.
        unsafe { libc::munmap(self.run.cast_mut().cast(), self.len) };
    }
}

/// The chunk being filled and its first free byte.
#[cfg(target_os = "linux")]
type Chunks = Mutex<Option<(Arc<Chunk>, usize)>>;

#[cfg(target_os = "linux")]
static CURRENT: PerProcess<Chunks> = PerProcess::new();

/// `bytes` copied into the current chunk (or a new one).
#[cfg(target_os = "linux")]
fn in_chunk(bytes: &[u8]) -> Option<ExecCode> {
    let mut current = CURRENT
        .get_or_init(|| Mutex::new(None))
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let fits = |(chunk, free): &(Arc<Chunk>, usize)| free + bytes.len() <= chunk.len;
    if !current.as_ref().is_some_and(fits) {
        *current = Some((Arc::new(Chunk::new(bytes.len())?), 0));
    }
    let (chunk, free) = current.as_mut()?;
    let offset = *free;
    let destination = chunk.write.wrapping_add(offset);
    // SAFETY: `offset..offset + bytes.len()` lies within the chunk's write
    // view (`fits`, or a new chunk of at least that size) and beyond every
    // byte handed out before, so no code can be running there; the lock
    // keeps other writers out.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), destination, bytes.len()) };
    *free = (offset + bytes.len()).next_multiple_of(ALIGN);
    Some(ExecCode {
        start: chunk.run.wrapping_add(offset),
        len: bytes.len(),
        _owner: Owner::Chunk(Arc::clone(chunk)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_reads_back_through_its_executable_view() {
        let first = ExecCode::new(&[0xc3; 100]).expect("executable memory");
        let second = ExecCode::new(&[0x90, 0xc3]).expect("executable memory");
        // SAFETY: both point at `len` mapped, readable bytes.
        let read = |c: &ExecCode| unsafe { std::slice::from_raw_parts(c.as_ptr(), c.len()) };
        assert_eq!(read(&first), &[0xc3; 100][..]);
        assert_eq!(read(&second), &[0x90, 0xc3][..]);
        assert_eq!(second.as_ptr() as usize % ALIGN, 0);
        // Never overlapping (other tests may make code in between).
        let (a, b) = (first.as_ptr() as usize, second.as_ptr() as usize);
        assert!(a + first.len() <= b || b + second.len() <= a);
        // Larger than a chunk: a chunk of its own.
        let big = vec![0xc3u8; CHUNK + 1];
        let code = ExecCode::new(&big).expect("executable memory");
        assert_eq!(read(&code), &big[..]);
        assert_eq!(read(&first), &[0xc3; 100][..]);
    }
}
