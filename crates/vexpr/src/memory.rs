//! Large buffers: allocation that asks the kernel for transparent huge pages.
//!
//! In: an element count and a fill value. Out: a `Vec` of that many elements,
//! or `None` if the memory is not there (never an abort).
//!
//! Why: a block of a 10M-element evaluation touches two new 4 KiB pages of
//! every input and of the output, and in a virtual machine each TLB miss walks
//! two sets of page tables. On the project machine, with the buffers on 2 MiB
//! pages, `sin(a)**2 + cos(b)**2` at N = 10M on one thread went from 3.75 to
//! 2.5 ns/elem and `2*a + 3*b` from 2.05 to 1.85 (`vexpr bench`, medians of
//! three runs each). NumPy advises huge pages for its own large arrays the same
//! way, so numexpr already had this advantage in the comparisons.

/// Buffers from this size on are advised; smaller ones cannot hold a whole
/// 2 MiB page anyway.
const ADVISE_FROM_BYTES: usize = 4 << 20;

/// `len` copies of `value` in a new `Vec`, or `None` if the allocation fails.
/// Large buffers are advised to use transparent huge pages (Linux, where the
/// system allows it; elsewhere this is a plain allocation).
///
/// ```
/// let v = vexpr::unstable::try_filled(0.0f64, 1000).unwrap();
/// assert_eq!(v.len(), 1000);
/// assert!(v.iter().all(|&x| x == 0.0));
/// ```
pub fn try_filled<T: Clone>(value: T, len: usize) -> Option<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    // Before the first write: pages faulted in afterwards come as huge pages.
    advise_huge_pages(v.as_ptr() as usize, len.saturating_mul(size_of::<T>()));
    v.resize(len, value);
    Some(v)
}

/// Advises the whole 2 MiB pages inside `start..start + bytes`.
fn advise_huge_pages(start: usize, bytes: usize) {
    // Not under Miri, which has no `madvise`: the advice changes no contents.
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        const HUGE_PAGE: usize = 2 << 20;
        if bytes < ADVISE_FROM_BYTES {
            return;
        }
        let (Some(first), Some(end)) = (
            start.checked_next_multiple_of(HUGE_PAGE),
            start.checked_add(bytes),
        ) else {
            return;
        };
        let last = end / HUGE_PAGE * HUGE_PAGE;
        if last > first {
            // SAFETY: madvise only changes how the kernel backs these pages;
            // the range lies inside the allocation the caller just reserved,
            // and MADV_HUGEPAGE neither frees nor changes its contents. A
            // failure (THP disabled) leaves ordinary pages, so it is ignored.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(any(not(target_os = "linux"), miri))]
    let _ = (start, bytes, ADVISE_FROM_BYTES);
}

#[cfg(test)]
mod tests {
    #[test]
    fn large_and_small_buffers_are_filled() {
        // 12 MiB is large enough to be advised; Miri skips the advice and
        // takes minutes to fill it.
        let large = if cfg!(miri) { 4096 } else { 3 << 20 };
        for len in [0, 1, 1000, large] {
            let v = super::try_filled(7u32, len).unwrap();
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|&x| x == 7));
        }
        assert!(super::try_filled(0u64, usize::MAX / 4).is_none());
    }
}
