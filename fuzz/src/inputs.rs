//! Inputs of every dtype, shape and memory layout, filled with hard values.
//!
//! A common shape of zero to three dimensions is drawn first (lengths around
//! the block boundaries of the small block lengths the targets run with, zero
//! included; rarely tens of thousands of elements, enough for two threads). Each variable of [`VARS`] then gets a shape that broadcasts to
//! it (the whole shape, a suffix of it, or size-1 dimensions; rarely one that
//! does not broadcast), a layout (contiguous from an unaligned offset, every
//! second or third element, reversed, transposed, broadcast with stride 0,
//! random strides, 0-d, or a plain scalar), and elements drawn by a small
//! PRNG from a palette of hard values: NaNs of both signs and with payloads,
//! signed zeros, infinities, subnormals, the extremes of every type, values
//! where `exp` and `log` leave their fast paths, and ordinary numbers.
//!
//! The fuzzer's bytes choose the shape, the layouts, the palettes and the
//! PRNG seeds, so a few hundred bytes describe all the inputs.

use crate::vars::VARS;
use arbitrary::{Result, Unstructured};
use std::cell::OnceCell;
use vexpr::unstable::c_strides;
use vexpr::{ArrayView, Buffer, Complex64, DType, Env, Scalar, Value};

/// The inputs of one fuzz case, one per variable of [`VARS`].
pub struct Inputs {
    /// The shape the inputs broadcast to (unless one was made not to).
    pub shape: Vec<usize>,
    /// A case large enough for two threads (the shape has over 60,000
    /// elements); each of its evaluations costs as much as hundreds of small
    /// ones.
    pub large: bool,
    /// In the order of [`VARS`].
    pub inputs: Vec<Input>,
    /// Each input's elements in row-major order, copied when first needed
    /// ([`Inputs::bytes_at`] runs per element of a result).
    c_order: Vec<OnceCell<Vec<u8>>>,
}

/// One variable's value.
pub enum Input {
    /// A scalar, broadcast like a 0-d array.
    Scalar(Scalar),
    /// A strided view of a buffer.
    Array {
        /// How the view was laid out (for reports).
        layout: Layout,
        shape: Vec<usize>,
        strides: Vec<isize>,
        offset: usize,
        /// The buffer's dtype and length, and the stream of its elements.
        dtype: DType,
        len: usize,
        fill: Fill,
        /// The buffer, made when first needed: only the variables an
        /// expression reads are made (a large case's buffers take longer
        /// to fill than the evaluations).
        buffer: OnceCell<Buffer>,
    },
}

/// How an array input lies in its buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Layout {
    /// Row-major, starting `pad` elements into the buffer.
    Contiguous,
    /// Row-major strides times 2 or 3 (every other / third element).
    Strided,
    /// Every stride negated: the last element first.
    Reversed,
    /// Column-major, as a transposed NumPy array.
    Transposed,
    /// Stride 0 in some dimensions.
    Broadcast,
    /// A stride from -3 to 3 in each dimension (0 included).
    Random,
    /// Zero dimensions.
    ZeroD,
}

/// Lengths of one-dimensional shapes: around 16, 32, 64 and 100 (the block
/// lengths the differential target uses), 256 (the smallest block the VM
/// picks by itself) and the vector widths.
const LENGTHS: [usize; 30] = [
    3, 0, 1, 2, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 99, 100, 101, 127, 128,
    129, 255, 256, 257, 300,
];

impl Inputs {
    /// Draws the common shape and every variable's value from `u`.
    pub fn generate(u: &mut Unstructured<'_>) -> Result<Inputs> {
        // One case in 256 is large enough for the VM to split the work
        // between threads (transcendental programs from some 65,000 elements,
        // reductions from 65,536), so that the thread counts matter.
        let large = u.int_in_range(0..=255)? == 255;
        let shape = if large {
            u.choose(&[&[65_553][..], &[70_001], &[257, 256], &[3, 21_846]])?
                .to_vec()
        } else {
            match u.choose(&[1, 1, 1, 2, 2, 3, 0])? {
                0 => vec![],
                1 => {
                    if u.ratio(1, 4)? {
                        vec![u.int_in_range(0..=300)?]
                    } else {
                        vec![*u.choose(&LENGTHS)?]
                    }
                }
                2 => vec![
                    *u.choose(&[3, 0, 1, 2, 5, 8, 16, 17])?,
                    *u.choose(&[3, 0, 1, 2, 7, 16, 17, 31, 33])?,
                ],
                _ => (0..3)
                    .map(|_| u.choose(&[2, 0, 1, 3, 4, 5, 7]).copied())
                    .collect::<Result<_>>()?,
            }
        };
        let inputs: Vec<Input> = VARS
            .iter()
            .map(|&(_, dtype)| Input::generate(u, dtype, &shape))
            .collect::<Result<_>>()?;
        Ok(Inputs {
            shape,
            large,
            c_order: inputs.iter().map(|_| OnceCell::new()).collect(),
            inputs,
        })
    }

    /// The element of each of the variables `names` that broadcasts to
    /// element `i` (in row-major order) of a result of `shape`, for reports.
    pub fn elements_at(&self, names: &[&str], shape: &[usize], i: usize) -> String {
        let mut text = String::new();
        for (name, dtype, bytes) in self.bytes_at(names, shape, i) {
            let element = crate::outcome::element(dtype, &bytes, 0);
            text.push_str(&format!("{name}: {element}\n"));
        }
        text
    }

    /// The name, dtype and bytes of the element of each of the variables
    /// `names` that broadcasts to element `i` of a result of `shape`.
    pub fn bytes_at(
        &self,
        names: &[&str],
        shape: &[usize],
        i: usize,
    ) -> Vec<(&'static str, DType, Vec<u8>)> {
        // The multi-index of element `i`.
        let mut index = vec![0; shape.len()];
        let mut rest = i;
        for d in (0..shape.len()).rev() {
            index[d] = rest % shape[d].max(1);
            rest /= shape[d].max(1);
        }
        let mut found = Vec::new();
        for ((&(name, dtype), input), c_order) in VARS.iter().zip(&self.inputs).zip(&self.c_order) {
            if !names.contains(&name) {
                continue;
            }
            let s = input.shape();
            let Some(lead) = shape.len().checked_sub(s.len()) else {
                continue;
            };
            if s.iter()
                .zip(&shape[lead..])
                .any(|(&n, &m)| n != 1 && n != m)
            {
                continue;
            }
            let at = s
                .iter()
                .zip(&index[lead..])
                .fold(0, |acc, (&n, &k)| acc * n + if n == 1 { 0 } else { k });
            let width = dtype.itemsize();
            let bytes = c_order.get_or_init(|| input.c_order_bytes());
            found.push((name, dtype, bytes[at * width..(at + 1) * width].to_vec()));
        }
        found
    }

    /// The environment binding the variables `names` to their inputs.
    pub fn env(&self, names: &[&str]) -> Env<'_> {
        let mut env = Env::new();
        for (&(name, _), input) in VARS.iter().zip(&self.inputs) {
            if names.contains(&name) {
                env.set(name, input.value());
            }
        }
        env
    }
}

impl Input {
    fn generate(u: &mut Unstructured<'_>, dtype: DType, common: &[usize]) -> Result<Input> {
        let mut fill = Fill::generate(u)?;
        let layout = match u.int_in_range(0..=9)? {
            0..=2 => Layout::Contiguous,
            3 => Layout::Strided,
            4 => Layout::Reversed,
            5 => Layout::Transposed,
            6 => Layout::Broadcast,
            7 => Layout::Random,
            8 => Layout::ZeroD,
            _ => return Ok(Input::Scalar(fill.scalar(dtype))),
        };
        // The shape: the common one, a suffix of it, or size-1 dimensions in
        // its place; rarely one that does not broadcast.
        let shape: Vec<usize> = if layout == Layout::ZeroD {
            vec![]
        } else {
            match u.int_in_range(0..=15)? {
                0 => common[u.int_in_range(0..=common.len())?..].to_vec(),
                1 => {
                    let mut s = common.to_vec();
                    for n in &mut s {
                        if u.ratio(1, 2)? {
                            *n = 1;
                        }
                    }
                    s
                }
                2 if u.ratio(1, 4)? => {
                    let mut s = common.to_vec();
                    match s.last_mut() {
                        Some(n) => *n += 1,
                        None => s.push(2),
                    }
                    s
                }
                _ => common.to_vec(),
            }
        };
        let c = c_strides(&shape);
        let strides: Vec<isize> = match layout {
            Layout::Contiguous | Layout::ZeroD => c,
            Layout::Strided => {
                let step = *u.choose(&[2, 3, -2])?;
                c.iter().map(|s| s * step).collect()
            }
            Layout::Reversed => c.iter().map(|s| -s).collect(),
            Layout::Transposed => {
                let mut f = vec![0; shape.len()];
                let mut step = 1isize;
                for (s, &n) in f.iter_mut().zip(&shape) {
                    *s = step;
                    step *= n.max(1) as isize;
                }
                f
            }
            Layout::Broadcast => {
                // Stride 0 in the chosen dimensions; the others row-major
                // over the elements that exist.
                let zero: Vec<bool> = shape.iter().map(|_| u.ratio(2, 3)).collect::<Result<_>>()?;
                let mut strides = vec![0; shape.len()];
                let mut step = 1isize;
                for d in (0..shape.len()).rev() {
                    if !zero[d] {
                        strides[d] = step;
                        step *= shape[d].max(1) as isize;
                    }
                }
                strides
            }
            Layout::Random => shape
                .iter()
                .map(|_| u.int_in_range(-3..=3))
                .collect::<Result<_>>()?,
        };
        let pad = *u.choose(&[0, 0, 1, 3])?;
        let tail = *u.choose(&[0, 1])?;
        let (len, offset) = if shape.contains(&0) {
            // No element is reachable; the offset may be anything up to the
            // buffer's length (the length itself included).
            let len = pad + tail;
            (len, if u.ratio(1, 2)? { len } else { pad.min(len) })
        } else {
            let (mut lo, mut hi) = (0isize, 0isize);
            for (&n, &s) in shape.iter().zip(&strides) {
                let reach = s * (n as isize - 1);
                if reach < 0 {
                    lo += reach;
                } else {
                    hi += reach;
                }
            }
            let offset = pad + (-lo) as usize;
            (offset + hi as usize + 1 + tail, offset)
        };
        Ok(Input::Array {
            layout,
            shape,
            strides,
            offset,
            dtype,
            len,
            fill,
            buffer: OnceCell::new(),
        })
    }

    /// The buffer of an array input, made on first use.
    fn buffer(&self) -> Option<&Buffer> {
        match self {
            Input::Scalar(_) => None,
            Input::Array {
                dtype,
                len,
                fill,
                buffer,
                ..
            } => Some(buffer.get_or_init(|| fill.clone().buffer(*dtype, *len))),
        }
    }

    /// The whole buffer of an array input, as native bytes (`None` for a
    /// scalar).
    pub fn buffer_bytes(&self) -> Option<&[u8]> {
        self.buffer().map(|b| b.data().as_bytes())
    }

    /// The value bound to the variable.
    pub fn value(&self) -> Value<'_> {
        match (self, self.buffer()) {
            (
                Input::Array {
                    shape,
                    strides,
                    offset,
                    ..
                },
                Some(buffer),
            ) => Value::Array(
                ArrayView::with_strides(buffer.data(), shape, strides, *offset)
                    .unwrap_or_else(|e| panic!("the fuzz target made an invalid view: {e}")),
            ),
            (Input::Scalar(s), _) => Value::Scalar(s.clone()),
            (Input::Array { .. }, None) => unreachable!("arrays have buffers"),
        }
    }

    /// The input's shape (empty for scalars).
    pub fn shape(&self) -> &[usize] {
        match self {
            Input::Scalar(_) => &[],
            Input::Array { shape, .. } => shape,
        }
    }

    /// The input's elements in row-major order, as native bytes.
    pub fn c_order_bytes(&self) -> Vec<u8> {
        match (self, self.buffer()) {
            (Input::Scalar(s), _) => s.to_bytes(),
            (Input::Array { .. }, None) => unreachable!("arrays have buffers"),
            (
                Input::Array {
                    shape,
                    strides,
                    offset,
                    ..
                },
                Some(buffer),
            ) => {
                let data = buffer.data();
                let width = data.dtype().itemsize();
                let bytes = data.as_bytes();
                let count: usize = shape.iter().product();
                let mut out = Vec::with_capacity(count * width);
                let mut index = vec![0usize; shape.len()];
                for _ in 0..count {
                    let at = *offset as isize
                        + index
                            .iter()
                            .zip(strides)
                            .map(|(&i, &s)| i as isize * s)
                            .sum::<isize>();
                    let at = at as usize * width;
                    out.extend_from_slice(&bytes[at..at + width]);
                    for d in (0..shape.len()).rev() {
                        index[d] += 1;
                        if index[d] < shape[d] {
                            break;
                        }
                        index[d] = 0;
                    }
                }
                out
            }
        }
    }
}

/// Floats that make kernels take their special paths.
const F64_SPECIAL: [f64; 32] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.0,
    -2.0,
    3.0,
    f64::NAN,
    -f64::NAN,
    f64::from_bits(0x7ff0_0000_0000_0001), // signalling NaN
    f64::from_bits(0xfff8_0000_0000_dead), // negative NaN with a payload
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MAX,
    f64::MIN,
    f64::MIN_POSITIVE,
    5e-324,                                // smallest subnormal
    f64::from_bits(0x000f_ffff_ffff_ffff), // largest subnormal
    -1e-310,
    1e-300,
    1e300,
    709.782712893384, // exp overflows just above
    710.0,
    -745.2, // exp underflows to 0 just below
    -708.4,
    std::f64::consts::PI,
    1e-8,
    0.1,
    9007199254740993.0, // 2^53 + 1
    -4.5,
    1e16,
];

/// Floats that are special in float32 only.
const F32_SPECIAL: [f32; 8] = [
    f32::MAX,
    f32::MIN_POSITIVE,
    1e-45, // smallest subnormal
    f32::from_bits(0x7fc0_1234),
    f32::from_bits(0xff80_0001),
    88.72284, // exp overflows just above
    -103.97,
    16777217.0,
];

const I64_SPECIAL: [i64; 20] = [
    0,
    1,
    -1,
    2,
    -2,
    3,
    7,
    31,
    32,
    63,
    64,
    -64,
    i32::MAX as i64,
    i32::MIN as i64,
    1 << 32,
    i64::MAX,
    i64::MIN,
    i64::MIN + 1,
    255,
    -1000,
];

/// A cheap deterministic stream of elements: a SplitMix64 generator seeded
/// by the fuzzer, and a palette of a few values the fuzzer chose.
#[derive(Clone)]
pub struct Fill {
    state: u64,
    palette: [u64; 4],
}

impl Fill {
    fn generate(u: &mut Unstructured<'_>) -> Result<Fill> {
        let state = u.arbitrary()?;
        let mut palette = [0u64; 4];
        for p in &mut palette {
            *p = match u.int_in_range(0..=3)? {
                // An index into the special values.
                0 | 1 => u64::from(u.arbitrary::<u8>()?),
                // Any bits.
                2 => u.arbitrary()?,
                // A small number.
                _ => (u.arbitrary::<i8>()? as i64) as u64,
            };
        }
        Ok(Fill { state, palette })
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn f64(&mut self) -> f64 {
        let r = self.next();
        let pick = (r >> 8) as usize;
        match r % 8 {
            0..=2 => {
                let p = self.palette[pick % 4];
                if p < 256 {
                    F64_SPECIAL[p as usize % F64_SPECIAL.len()]
                } else {
                    f64::from_bits(p)
                }
            }
            3 | 4 => F64_SPECIAL[pick % F64_SPECIAL.len()],
            5 | 6 => ((r >> 11) as f64 / (1u64 << 53) as f64) * 20.0 - 10.0,
            _ => f64::from_bits(r ^ 0x5555),
        }
    }

    fn f32(&mut self) -> f32 {
        let r = self.next();
        match r % 8 {
            0 => F32_SPECIAL[(r >> 8) as usize % F32_SPECIAL.len()],
            1 => f32::from_bits((r >> 16) as u32),
            _ => self.f64() as f32,
        }
    }

    fn i64(&mut self) -> i64 {
        let r = self.next();
        let pick = (r >> 8) as usize;
        match r % 8 {
            0..=2 => self.palette[pick % 4] as i64,
            3 | 4 => I64_SPECIAL[pick % I64_SPECIAL.len()],
            5 | 6 => (r >> 32) as i64 % 100,
            _ => r as i64,
        }
    }

    fn i32(&mut self) -> i32 {
        self.i64() as i32
    }

    fn boolean(&mut self) -> bool {
        self.next() & 1 == 1
    }

    /// A string of `width` bytes over a small alphabet (so that comparisons
    /// and `contains` find equal strings), NUL-padded or with NULs inside.
    fn bytes(&mut self, width: usize, out: &mut Vec<u8>) {
        let r = self.next();
        let used = (r % (width as u64 + 1)) as usize;
        out.extend((0..width).map(|k| {
            if k >= used {
                0
            } else {
                [b'a', b'b', b'a', 0, 0xff][((r >> (8 + 3 * k)) % 5) as usize]
            }
        }));
    }

    fn scalar(&mut self, dtype: DType) -> Scalar {
        match dtype {
            DType::Bool => Scalar::Bool(self.boolean()),
            DType::Int32 => Scalar::Int32(self.i32()),
            DType::Int64 => Scalar::Int64(self.i64()),
            DType::Float32 => Scalar::Float32(self.f32()),
            DType::Float64 => Scalar::Float64(self.f64()),
            DType::Complex128 => Scalar::Complex128(Complex64::new(self.f64(), self.f64())),
            DType::Bytes(width) => {
                let mut bytes = Vec::with_capacity(width);
                self.bytes(width, &mut bytes);
                Scalar::Bytes(bytes)
            }
        }
    }

    fn buffer(&mut self, dtype: DType, len: usize) -> Buffer {
        match dtype {
            DType::Bool => Buffer::Bool((0..len).map(|_| self.boolean()).collect()),
            DType::Int32 => Buffer::Int32((0..len).map(|_| self.i32()).collect()),
            DType::Int64 => Buffer::Int64((0..len).map(|_| self.i64()).collect()),
            DType::Float32 => Buffer::Float32((0..len).map(|_| self.f32()).collect()),
            DType::Float64 => Buffer::Float64((0..len).map(|_| self.f64()).collect()),
            DType::Complex128 => Buffer::Complex128(
                (0..len)
                    .map(|_| Complex64::new(self.f64(), self.f64()))
                    .collect(),
            ),
            DType::Bytes(width) => {
                let mut data = Vec::with_capacity(len * width);
                for _ in 0..len {
                    self.bytes(width, &mut data);
                }
                Buffer::Bytes { data, width }
            }
        }
    }
}

impl Inputs {
    /// The common shape and the inputs of the variables `names`: layout,
    /// shape, strides, offset and every element of the buffer.
    pub fn describe(&self, names: &[&str]) -> String {
        let mut text = format!("common shape {:?}\n", self.shape);
        for (&(name, _), input) in VARS.iter().zip(&self.inputs) {
            if !names.contains(&name) {
                continue;
            }
            match input {
                Input::Scalar(s) => text.push_str(&format!("{name} = scalar {s:?}\n")),
                Input::Array {
                    layout,
                    shape,
                    strides,
                    offset,
                    ..
                } => text.push_str(&format!(
                    "{name} = {layout:?} view shape {shape:?} strides {strides:?} offset {offset} of {:?}\n",
                    input.buffer().expect("arrays have buffers")
                )),
            }
        }
        text
    }
}
