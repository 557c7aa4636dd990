//! Gathering strided and broadcast inputs into contiguous block registers.

/// How to read an input in output order: for each output dimension, the byte
/// stride in the input's data (0 where the input is broadcast).
#[derive(Debug, Clone)]
pub(crate) struct Gather<'a> {
    data: &'a [u8],
    width: usize,
    /// Byte offset of the element at output index (0, ..., 0).
    base: usize,
    shape: Vec<usize>,
    strides: Vec<isize>,
}

impl<'a> Gather<'a> {
    /// A reader of `data` over the output `shape` with byte `strides`.
    ///
    /// Returns `None` unless every element it can reach lies inside `data`,
    /// which is what makes [`Gather::gather`]'s indexing safe to trust.
    pub(crate) fn new(
        data: &'a [u8],
        width: usize,
        base: usize,
        shape: &[usize],
        strides: &[isize],
    ) -> Option<Self> {
        if shape.contains(&0) {
            return Some(Gather {
                data,
                width,
                base,
                shape: shape.to_vec(),
                strides: strides.to_vec(),
            });
        }
        let (mut lo, mut hi) = (base as isize, base as isize);
        for (&n, &s) in shape.iter().zip(strides) {
            let reach = s.checked_mul(n as isize - 1)?;
            if reach < 0 { lo += reach } else { hi += reach }
        }
        if lo < 0 || (hi as usize).checked_add(width)? > data.len() {
            return None;
        }
        Some(Gather {
            data,
            width,
            base,
            shape: shape.to_vec(),
            strides: strides.to_vec(),
        })
    }

    /// Copies output elements `start..start + n` into `dst` (`n * width` bytes).
    pub(crate) fn gather(&self, start: usize, n: usize, dst: &mut [u8]) {
        let w = self.width;
        let nd = self.shape.len();
        if nd == 0 {
            for chunk in dst.chunks_exact_mut(w.max(1)).take(n) {
                chunk.copy_from_slice(&self.data[self.base..self.base + w]);
            }
            return;
        }
        let mut index = vec![0usize; nd];
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
            let out = &mut dst[written * w..(written + run) * w];
            if stride == w as isize {
                let at = offset as usize;
                out.copy_from_slice(&self.data[at..at + run * w]);
            } else {
                for (k, chunk) in out.chunks_exact_mut(w).enumerate() {
                    let at = (offset + k as isize * stride) as usize;
                    chunk.copy_from_slice(&self.data[at..at + w]);
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
        let g = Gather::new(&data, 1, 0, &[3, 2], &[1, 3]).unwrap();
        let mut out = vec![0; 6];
        g.gather(0, 6, &mut out);
        assert_eq!(out, [0, 3, 1, 4, 2, 5]);
        // A block starting mid-row.
        let mut part = vec![0; 3];
        g.gather(3, 3, &mut part);
        assert_eq!(part, [4, 2, 5]);
        // Row 1 broadcast over 4 rows: shape (4, 3), strides (0, 1), base 3.
        let b = Gather::new(&data, 1, 3, &[4, 3], &[0, 1]).unwrap();
        let mut out = vec![0; 12];
        b.gather(0, 12, &mut out);
        assert_eq!(out, [3, 4, 5, 3, 4, 5, 3, 4, 5, 3, 4, 5]);
        // Out of bounds is refused up front.
        assert!(Gather::new(&data, 1, 0, &[3, 3], &[1, 3]).is_none());
    }
}
