//! Gathering strided, broadcast and stored inputs into contiguous block
//! registers.
//!
//! A [`Gather`] reads an input view in the output's element order, a block
//! at a time, into a register: strided and broadcast views of vexpr's own
//! types are copied element by element (or run by run where the innermost
//! dimension is contiguous), and views of stored bytes
//! ([`ArrayView::from_bytes`]) are converted on the way (`convert.rs`), so
//! that no input is ever copied or converted whole. A view read through a
//! pointer (an `ndarray` view whose elements leave gaps, [`Raw`]) is read
//! the same way, each element or run of adjacent elements through a slice
//! of its own bytes only.

use super::convert::{Convert, converter};
use crate::array::{ArrayView, Raw};

/// The memory a gather reads.
#[derive(Debug, Clone, Copy)]
enum Memory<'a> {
    /// A slice: any of it may be read.
    Slice(&'a [u8]),
    /// A view's elements through a pointer: only they may be read, which a
    /// gather made by [`Gather::of_view`] does (see [`Memory::read`]).
    Raw(Raw<'a>),
}

impl<'a> Memory<'a> {
    /// Bytes in the memory's extent.
    fn len(&self) -> usize {
        match self {
            Memory::Slice(data) => data.len(),
            Memory::Raw(raw) => raw.span(),
        }
    }

    /// The `len` bytes at byte `at`. [`Gather::gather`] asks only for the
    /// bytes of the element at an output index, or of a run of elements at
    /// adjacent output indices along an axis whose stride is one element.
    #[inline]
    fn read(&self, at: usize, len: usize) -> &'a [u8] {
        match *self {
            Memory::Slice(data) => &data[at..at + len],
            Memory::Raw(raw) => {
                // Inside the span, or a panic as the slice's indexing would
                // give: never a read beyond the view's extent.
                assert!(at.checked_add(len).is_some_and(|end| end <= raw.span()));
                let start = raw.base().as_ptr().cast_const().wrapping_add(at);
                // SAFETY: a gather of `Raw` memory is made only by
                // `Gather::of_view`, from the view's own offset and strides,
                // with stride 0 only for the dimensions the view lacks or
                // has of length 1: every output index is the address of an
                // element the view reaches, and `gather` reads only the
                // bytes of whole elements at output indices (see above),
                // adjacent when it reads several. So these `len` bytes are
                // bytes of the view's elements, which `ArrayView::from_raw`'s
                // contract makes initialized and unwritten for `'a`, in one
                // allocation; `u8` needs no alignment. The memory between
                // the elements, which others may be writing, is never
                // covered.
                unsafe { std::slice::from_raw_parts(start, len) }
            }
        }
    }
}

/// How to read an input in output order: for each output dimension, the byte
/// stride in the input's data (0 where the input is broadcast).
#[derive(Debug, Clone)]
pub(crate) struct Gather<'a> {
    data: Memory<'a>,
    /// Bytes of one element in `data`.
    width: usize,
    /// Byte offset of the element at output index (0, ..., 0).
    base: usize,
    shape: Vec<usize>,
    strides: Vec<isize>,
    /// For stored elements: their conversion, and the width of a converted
    /// element (the register's).
    convert: Option<(Convert, usize)>,
}

/// Output dimensions whose index a gather keeps on the stack (NumPy allows
/// 64); more take a vector, once per block.
const STACK_DIMS: usize = 64;

impl<'a> Gather<'a> {
    /// A reader of `data` over the output `shape` with byte `strides`; only
    /// [`Gather::of_view`] passes [`Memory::Raw`], with a view's own strides.
    ///
    /// Returns `None` unless every element it can reach lies inside `data`,
    /// which is what makes [`Gather::gather`]'s indexing safe to trust.
    fn new(
        data: Memory<'a>,
        width: usize,
        base: usize,
        shape: &[usize],
        strides: &[isize],
    ) -> Option<Self> {
        let gather = Gather {
            data,
            width,
            base,
            shape: shape.to_vec(),
            strides: strides.to_vec(),
            convert: None,
        };
        if shape.contains(&0) {
            return Some(gather);
        }
        let (mut lo, mut hi) = (base as isize, base as isize);
        for (&n, &s) in shape.iter().zip(strides) {
            let reach = s.checked_mul(n as isize - 1)?;
            if reach < 0 {
                lo = lo.checked_add(reach)?;
            } else {
                hi = hi.checked_add(reach)?;
            }
        }
        if lo < 0 || (hi as usize).checked_add(width)? > data.len() {
            return None;
        }
        Some(gather)
    }

    /// A reader of `view` broadcast to the output `shape` (NumPy's rules:
    /// missing leading dimensions and dimensions of length 1 repeat), that
    /// converts the elements of a view of stored bytes to the view's dtype.
    /// `None` if the view does not broadcast to `shape` or reaches outside
    /// its data (which no view made by `ArrayView`'s constructors does).
    pub(crate) fn of_view(view: &ArrayView<'a>, shape: &[usize]) -> Option<Self> {
        let extra = shape.len().checked_sub(view.shape().len())?;
        // A typed view counts its strides and offset in elements, a view of
        // stored bytes in bytes.
        let (data, width, unit, convert) = match (view.data(), view.format(), view.raw()) {
            (Some(data), _, _) => {
                let width = data.dtype().itemsize();
                (Memory::Slice(data.as_bytes()), width, width, None)
            }
            (None, format, Some(raw)) => {
                let out = view.dtype().itemsize();
                match format {
                    // Read as it is: strides count elements.
                    None => (Memory::Raw(raw), out, out, None),
                    // Widened as it is read: strides count bytes.
                    Some(f) => (
                        Memory::Raw(raw),
                        f.storage.itemsize(),
                        1,
                        Some((converter(f), out)),
                    ),
                }
            }
            (None, Some(format), None) => {
                let out = view.dtype().itemsize();
                let convert = Some((converter(format), out));
                (
                    Memory::Slice(view.bytes()),
                    format.storage.itemsize(),
                    1,
                    convert,
                )
            }
            (None, None, None) => return None,
        };
        let mut strides = vec![0isize; shape.len()];
        for (d, stride) in strides.iter_mut().enumerate().skip(extra) {
            let (n, s) = (view.shape()[d - extra], view.strides()[d - extra]);
            if n != shape[d] && n != 1 {
                return None;
            }
            // A dimension of length 1 never steps, whatever its stride says.
            if n != 1 {
                *stride = s.checked_mul(unit as isize)?;
            }
        }
        let base = view.offset().checked_mul(unit)?;
        let gather = Gather::new(data, width, base, shape, &strides)?;
        Some(Gather { convert, ..gather })
    }

    /// Bytes of one gathered element: the register's element width.
    fn out_width(&self) -> usize {
        self.convert.map_or(self.width, |(_, out)| out)
    }

    /// Copies `src`, whole elements as stored, into `dst` as the register's
    /// elements: converted for stored inputs, else as they are.
    #[inline]
    fn put(&self, src: &[u8], dst: &mut [u8]) {
        match self.convert {
            Some((convert, _)) => convert(src, dst),
            None => dst.copy_from_slice(src),
        }
    }

    /// Writes output elements `start..start + n` into `dst` (`n` register
    /// elements).
    pub(crate) fn gather(&self, start: usize, n: usize, dst: &mut [u8]) {
        let (w, out_w) = (self.width, self.out_width());
        let nd = self.shape.len();
        if nd == 0 || n == 0 {
            // One element for all: read (and convert) it once, then copy.
            let Some((first, rest)) = dst[..n * out_w].split_at_mut_checked(out_w) else {
                return;
            };
            self.put(self.data.read(self.base, w), first);
            for chunk in rest.chunks_exact_mut(out_w.max(1)) {
                chunk.copy_from_slice(first);
            }
            return;
        }
        let mut on_stack = [0usize; STACK_DIMS];
        let mut on_heap;
        let index: &mut [usize] = if nd <= STACK_DIMS {
            &mut on_stack[..nd]
        } else {
            on_heap = vec![0usize; nd];
            &mut on_heap
        };
        let mut rest = start;
        for d in (0..nd).rev() {
            index[d] = rest % self.shape[d];
            rest /= self.shape[d];
        }
        let mut offset = self.base as isize
            + index
                .iter()
                .zip(&self.strides)
                .map(|(&i, &s)| i as isize * s)
                .sum::<isize>();
        let inner = nd - 1;
        let stride = self.strides[inner];
        let mut written = 0;
        while written < n {
            let run = (self.shape[inner] - index[inner]).min(n - written);
            let out = &mut dst[written * out_w..(written + run) * out_w];
            if stride == w as isize {
                let at = offset as usize;
                self.put(self.data.read(at, run * w), out);
            } else {
                for (k, chunk) in out.chunks_exact_mut(out_w).enumerate() {
                    let at = (offset + k as isize * stride) as usize;
                    self.put(self.data.read(at, w), chunk);
                }
            }
            written += run;
            index[inner] += run;
            offset += run as isize * stride;
            // Carry into the outer dimensions.
            let mut d = inner;
            while d > 0 && index[d] == self.shape[d] {
                offset -= index[d] as isize * self.strides[d];
                index[d] = 0;
                d -= 1;
                index[d] += 1;
                offset += self.strides[d];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_a_transposed_and_broadcast_view() {
        // data is a 2x3 row-major array of single bytes: [[0,1,2],[3,4,5]].
        let data: Vec<u8> = (0..6).collect();
        // Its transpose, shape (3, 2): strides (1, 3).
        let g = Gather::new(Memory::Slice(&data), 1, 0, &[3, 2], &[1, 3]).unwrap();
        let mut out = vec![0; 6];
        g.gather(0, 6, &mut out);
        assert_eq!(out, [0, 3, 1, 4, 2, 5]);
        // A block starting mid-row.
        let mut part = vec![0; 3];
        g.gather(3, 3, &mut part);
        assert_eq!(part, [4, 2, 5]);
        // Row 1 broadcast over 4 rows: shape (4, 3), strides (0, 1), base 3.
        let b = Gather::new(Memory::Slice(&data), 1, 3, &[4, 3], &[0, 1]).unwrap();
        let mut out = vec![0; 12];
        b.gather(0, 12, &mut out);
        assert_eq!(out, [3, 4, 5, 3, 4, 5, 3, 4, 5, 3, 4, 5]);
        // Out of bounds is refused up front.
        assert!(Gather::new(Memory::Slice(&data), 1, 0, &[3, 3], &[1, 3]).is_none());
    }
}
