//! Arrays in and out: [`ArrayView`] borrows a caller's data (any supported
//! element type, any shape, any strides, or raw bytes in any [`Format`], which
//! are converted as they are read); [`Array`] owns a result; [`Env`] binds
//! variable names to views or scalars.

use crate::dtype::{DType, Format, Scalar, Storage};
use crate::error::{Error, ErrorKind, Span};
use num_complex::Complex64;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;

/// Element types that can be passed in and out as Rust slices: `bool`, `i32`,
/// `i64`, `f32`, `f64` and [`Complex64`], and no others.
///
/// The trait is sealed (its private supertrait is implemented only for those
/// six types) because the library hands an output slice `&mut [T]` to its
/// kernels as raw bytes, which is sound only for types whose every byte
/// pattern the kernels write is a valid value: plain numbers, and `bool`,
/// which the kernels write only as 0 or 1. A type from outside, such as a
/// reference, would let a kernel write arbitrary bytes into it from safe
/// code. So an implementation in another crate is refused:
///
/// ```compile_fail,E0277
/// use vexpr::{Buffer, DType, Data, Element, Scalar};
/// struct Mine;
/// # impl Clone for Mine { fn clone(&self) -> Self { Mine } }
/// # impl Copy for Mine {}
/// impl Element for Mine {
///     const DTYPE: DType = DType::Float64;
///     fn data(_: &[Self]) -> Data<'_> { unimplemented!() }
///     fn buffer(_: Vec<Self>) -> Buffer { unimplemented!() }
///     fn slice(_: &Buffer) -> Option<&[Self]> { unimplemented!() }
///     fn vec(_: Buffer) -> Option<Vec<Self>> { unimplemented!() }
///     fn scalar(self) -> Scalar { unimplemented!() }
/// }
/// ```
pub trait Element: sealed::Sealed + Copy + Send + Sync + 'static {
    /// The matching dtype.
    const DTYPE: DType;
    /// Wraps a slice.
    fn data(slice: &[Self]) -> Data<'_>;
    /// Wraps an owned vector.
    fn buffer(vec: Vec<Self>) -> Buffer;
    /// Borrows a buffer of this type.
    fn slice(buffer: &Buffer) -> Option<&[Self]>;
    /// Takes a buffer of this type.
    fn vec(buffer: Buffer) -> Option<Vec<Self>>;
    /// This value as a scalar.
    fn scalar(self) -> Scalar;
}

pub(crate) mod sealed {
    /// The part of [`Element`](super::Element) that only this crate
    /// implements.
    pub trait Sealed: Sized {
        /// The elements as the bytes the kernels write. Each type says
        /// why that is sound for it: `bytemuck` proves it for the plain
        /// numbers, [`bools_as_bytes_mut`](super::bools_as_bytes_mut) argues
        /// it for `bool`.
        fn bytes_mut(slice: &mut [Self]) -> &mut [u8];
    }
}

macro_rules! element {
    ($t:ty, $variant:ident, $bytes_mut:path) => {
        impl sealed::Sealed for $t {
            fn bytes_mut(slice: &mut [Self]) -> &mut [u8] {
                $bytes_mut(slice)
            }
        }

        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            fn data(slice: &[Self]) -> Data<'_> {
                Data::$variant(slice)
            }
            fn buffer(vec: Vec<Self>) -> Buffer {
                Buffer::$variant(vec)
            }
            fn slice(buffer: &Buffer) -> Option<&[Self]> {
                match buffer {
                    Buffer::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn vec(buffer: Buffer) -> Option<Vec<Self>> {
                match buffer {
                    Buffer::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn scalar(self) -> Scalar {
                Scalar::$variant(self)
            }
        }
    };
}
element!(bool, Bool, bools_as_bytes_mut);
element!(i32, Int32, bytemuck::cast_slice_mut);
element!(i64, Int64, bytemuck::cast_slice_mut);
element!(f32, Float32, bytemuck::cast_slice_mut);
element!(f64, Float64, bytemuck::cast_slice_mut);
element!(Complex64, Complex128, bytemuck::cast_slice_mut);

/// Borrowed element storage of one dtype.
///
/// ```
/// use vexpr::{Data, DType};
/// let d = Data::Bytes { data: b"ab\0cd\0", width: 3 };
/// assert_eq!((d.dtype(), d.len()), (DType::Bytes(3), 2));
/// ```
#[derive(Debug, Clone, Copy)]
pub enum Data<'a> {
    /// bool
    Bool(&'a [bool]),
    /// int32
    Int32(&'a [i32]),
    /// int64
    Int64(&'a [i64]),
    /// float32
    Float32(&'a [f32]),
    /// float64
    Float64(&'a [f64]),
    /// complex128
    Complex128(&'a [Complex64]),
    /// Fixed-width byte strings: `data.len()` is a multiple of `width`.
    Bytes {
        /// The strings, back to back, NUL-padded.
        data: &'a [u8],
        /// Bytes per string.
        width: usize,
    },
}

impl<'a> Data<'a> {
    /// The elements `start..end` (which must be in range).
    pub(crate) fn slice(self, start: usize, end: usize) -> Data<'a> {
        match self {
            Data::Bool(v) => Data::Bool(&v[start..end]),
            Data::Int32(v) => Data::Int32(&v[start..end]),
            Data::Int64(v) => Data::Int64(&v[start..end]),
            Data::Float32(v) => Data::Float32(&v[start..end]),
            Data::Float64(v) => Data::Float64(&v[start..end]),
            Data::Complex128(v) => Data::Complex128(&v[start..end]),
            Data::Bytes { data, width } => Data::Bytes {
                data: &data[start * width..end * width],
                width,
            },
        }
    }

    /// The element type.
    ///
    /// ```
    /// assert_eq!(vexpr::Data::Int64(&[1, 2]).dtype(), vexpr::DType::Int64);
    /// ```
    pub fn dtype(&self) -> DType {
        match self {
            Data::Bool(_) => DType::Bool,
            Data::Int32(_) => DType::Int32,
            Data::Int64(_) => DType::Int64,
            Data::Float32(_) => DType::Float32,
            Data::Float64(_) => DType::Float64,
            Data::Complex128(_) => DType::Complex128,
            Data::Bytes { width, .. } => DType::Bytes(*width),
        }
    }

    /// Number of elements.
    ///
    /// ```
    /// assert_eq!(vexpr::Data::Float32(&[1.0, 2.0]).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Data::Bool(s) => s.len(),
            Data::Int32(s) => s.len(),
            Data::Int64(s) => s.len(),
            Data::Float32(s) => s.len(),
            Data::Float64(s) => s.len(),
            Data::Complex128(s) => s.len(),
            Data::Bytes { data, width } => data.len().checked_div(*width).unwrap_or(0),
        }
    }

    /// True when there are no elements.
    ///
    /// ```
    /// assert!(vexpr::Data::Bool(&[]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements' bytes in native layout.
    ///
    /// ```
    /// assert_eq!(vexpr::Data::Int32(&[1]).as_bytes(), 1i32.to_ne_bytes());
    /// ```
    pub fn as_bytes(&self) -> &'a [u8] {
        match *self {
            // Reading a bool as a byte is always sound (bytemuck checks it);
            // only writing needs care (`bools_as_bytes_mut`).
            Data::Bool(s) => bytemuck::cast_slice(s),
            Data::Int32(s) => bytemuck::cast_slice(s),
            Data::Int64(s) => bytemuck::cast_slice(s),
            Data::Float32(s) => bytemuck::cast_slice(s),
            Data::Float64(s) => bytemuck::cast_slice(s),
            Data::Complex128(s) => bytemuck::cast_slice(s),
            Data::Bytes { data, .. } => data,
        }
    }
}

/// A borrowed N-dimensional array: data, shape, and strides in elements.
///
/// ```
/// use vexpr::ArrayView;
/// let m = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2x3, row-major
/// let column = ArrayView::strided(&m[..], &[2], &[3], 1).unwrap(); // [2.0, 5.0]
/// assert_eq!(column.shape(), &[2]);
/// ```
///
/// A view may also hold raw bytes in a [`Format`] that vexpr does not compute
/// in, or that is byte-swapped, unaligned or strided by a number of bytes
/// that is not a multiple of the element size ([`ArrayView::from_bytes`]):
/// its elements are then converted to its [`dtype`](ArrayView::dtype) block
/// by block as an evaluation reads them, as numexpr's buffered iterator does.
#[derive(Debug, Clone)]
pub struct ArrayView<'a> {
    elements: Elements<'a>,
    shape: Dims<usize>,
    strides: Dims<isize>,
    offset: usize,
}

/// Dimensions a view keeps in itself; more are shared behind an `Arc`.
const INLINE_DIMS: usize = 4;

/// A view's shape or strides. Making or cloning a view (every evaluation
/// clones the views it reads) allocates nothing for up to [`INLINE_DIMS`]
/// dimensions, and only once for more.
#[derive(Debug, Clone)]
enum Dims<T> {
    Inline { len: u8, items: [T; INLINE_DIMS] },
    Shared(Arc<[T]>),
}

impl<T: Copy + Default> Dims<T> {
    fn new(items: &[T]) -> Dims<T> {
        if items.len() <= INLINE_DIMS {
            let mut inline = [T::default(); INLINE_DIMS];
            inline[..items.len()].copy_from_slice(items);
            Dims::Inline {
                len: items.len() as u8,
                items: inline,
            }
        } else {
            Dims::Shared(items.into())
        }
    }
}

impl<T> std::ops::Deref for Dims<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Dims::Inline { len, items } => &items[..usize::from(*len)],
            Dims::Shared(items) => items,
        }
    }
}

/// What a view's strides and offset index.
#[derive(Debug, Clone, Copy)]
enum Elements<'a> {
    /// Elements of a vexpr dtype; strides and offset count elements.
    Typed(Data<'a>),
    /// Elements stored in `format`, converted as they are read; strides and
    /// offset count bytes.
    Stored { bytes: &'a [u8], format: Format },
    /// Elements read through a pointer, never through a slice over their
    /// extent ([`ArrayView::from_raw`]); strides and offset count elements
    /// of a vexpr dtype, bytes of a storage that is widened as it is read.
    #[cfg_attr(not(feature = "ndarray"), allow(dead_code))]
    Raw(Raw<'a>),
}

/// The memory of a view whose elements leave gaps that others may be
/// writing while the view is read: a column of a matrix whose other columns
/// another thread fills through a mutable view. A `&[u8]` over the view's
/// extent would assert that nothing writes any of it, so none is ever made:
/// this stands for the `span` bytes from `base`, of which only the view's own
/// elements (the addresses its shape, strides and offset reach) are
/// borrowed, for `'a`, and only they are read (by the VM's gather,
/// `vm/gather.rs`, one element or one run of adjacent elements at a time).
/// The views made of such a view ([`ArrayView::arranged`],
/// [`ArrayView::window`], which checks) reach only elements it reaches.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw<'a> {
    /// The lowest byte the view reaches.
    base: NonNull<u8>,
    /// Bytes from `base` to the end of the highest element the view reaches.
    span: usize,
    /// How an element is stored: a Rust value, in native byte order.
    storage: Storage,
    /// The view's elements are borrowed for `'a`, as by a shared slice.
    _borrow: PhantomData<&'a [u8]>,
}

// SAFETY: a `Raw` is a shared borrow, for `'a`, of the bytes of plain
// elements (numbers and `bool`s, which have no interior mutability), that
// nothing writes during `'a` (`ArrayView::from_raw`'s contract): what a
// `&'a [u8]` of them would be, and that is `Send`. Moving it to another
// thread lets that thread read them, as a moved `&[u8]` would.
unsafe impl Send for Raw<'_> {}
// SAFETY: as for `Send`: sharing it shares only reads of elements nothing
// writes during `'a`, as sharing a `&'a [u8]` (which is `Sync`) would.
unsafe impl Sync for Raw<'_> {}

impl Raw<'_> {
    /// The lowest byte the view reaches.
    pub(crate) fn base(&self) -> NonNull<u8> {
        self.base
    }

    /// Bytes from [`Raw::base`] to the end of the highest element.
    pub(crate) fn span(&self) -> usize {
        self.span
    }

    /// True when the elements are of a vexpr dtype, read as they are
    /// (strides count elements); false for a storage widened as it is read
    /// (strides count bytes).
    fn typed(&self) -> bool {
        self.storage.is_dtype()
    }
}

/// Why an array or a view could not be made: an [`Error`] of kind
/// [`ErrorKind::Shape`], about no expression (its span is empty, at 0).
fn shape_error(message: String) -> Error {
    Error::new(ErrorKind::Shape, Span::default(), message)
}

/// The number of elements of an array of `shape` with `itemsize`-byte
/// elements, or `None` when such an array could not exist: NumPy's rule, that
/// the product of the nonzero dimensions, in bytes, fits in `isize`. Checking
/// the nonzero ones (an empty `[0, 2**40, 2**40]` is refused too) means that
/// every partial product of the shape fits as well, which is what code that
/// splits a shape into parts relies on.
pub(crate) fn checked_size(shape: &[usize], itemsize: usize) -> Option<usize> {
    let item = itemsize.max(1);
    let bytes = shape
        .iter()
        .filter(|&&n| n != 0)
        .try_fold(item, |acc, &n| acc.checked_mul(n))?;
    if bytes > isize::MAX as usize {
        return None;
    }
    Some(if shape.contains(&0) { 0 } else { bytes / item })
}

/// The lowest and highest offsets a non-empty view of `shape` and `strides`
/// from `offset` reaches (in the strides' unit).
fn reach(offset: usize, shape: &[usize], strides: &[isize]) -> (i128, i128) {
    let (mut lo, mut hi) = (offset as i128, offset as i128);
    for (&n, &s) in shape.iter().zip(strides) {
        let reach = s as i128 * (n as i128 - 1);
        // Saturating: each reach fits in i128, but the sum of several need
        // not; a saturated bound is outside anyway.
        if reach < 0 {
            lo = lo.saturating_add(reach)
        } else {
            hi = hi.saturating_add(reach)
        }
    }
    (lo, hi)
}

/// Row-major strides (in elements) of `shape`.
pub fn c_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut step = 1isize;
    for (s, &n) in strides.iter_mut().zip(shape).rev() {
        *s = step;
        step = step.saturating_mul(n.max(1) as isize);
    }
    strides
}

impl<'a> ArrayView<'a> {
    /// A one-dimensional view of a slice.
    ///
    /// ```
    /// let v = vexpr::ArrayView::from_slice(&[1i32, 2, 3][..]);
    /// assert_eq!((v.shape(), v.dtype()), (&[3][..], vexpr::DType::Int32));
    /// ```
    pub fn from_slice<T: Element>(slice: &'a [T]) -> Self {
        // Cannot fail: the shape is the slice's own length.
        ArrayView::contiguous(T::data(slice), &[slice.len()]).expect("a slice is its own shape")
    }

    /// A row-major view of `data` with `shape`; the sizes must agree.
    ///
    /// ```
    /// use vexpr::{ArrayView, Data};
    /// let m = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    /// let v = ArrayView::contiguous(Data::Float64(&m), &[2, 3]).unwrap();
    /// assert!(v.is_c_contiguous());
    /// assert!(ArrayView::contiguous(Data::Float64(&m), &[4, 2]).is_err());
    /// ```
    pub fn contiguous(data: Data<'a>, shape: &[usize]) -> Result<Self, Error> {
        let size = shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
        if size != Some(data.len()) {
            return Err(shape_error(format!(
                "shape {shape:?} needs {} elements, the data has {}",
                size.map_or("too many".to_string(), |s| s.to_string()),
                data.len()
            )));
        }
        Ok(ArrayView {
            elements: Elements::Typed(data),
            shape: Dims::new(shape),
            strides: Dims::new(&c_strides(shape)),
            offset: 0,
        })
    }

    /// A strided view of a slice: element `idx` is `slice[offset + Σ idx[d] * strides[d]]`.
    /// Every reachable element must lie inside the slice; a view with no elements
    /// (a zero in `shape`) reaches none, but its `offset` must still be at most
    /// the slice's length, as NumPy requires of a buffer's offset. Every view
    /// this accepts can be evaluated.
    pub fn strided<T: Element>(
        slice: &'a [T],
        shape: &[usize],
        strides: &[isize],
        offset: usize,
    ) -> Result<Self, Error> {
        ArrayView::with_strides(T::data(slice), shape, strides, offset)
    }

    /// Like [`ArrayView::strided`], for any [`Data`].
    ///
    /// ```
    /// use vexpr::{ArrayView, Data};
    /// let m = [1i64, 2, 3, 4];
    /// let reversed = ArrayView::with_strides(Data::Int64(&m), &[4], &[-1], 3).unwrap();
    /// let r = vexpr::evaluate("a * 10", &vexpr::Env::new().with("a", reversed)).unwrap();
    /// assert_eq!(r.as_slice::<i64>().unwrap(), &[40, 30, 20, 10]);
    /// ```
    pub fn with_strides(
        data: Data<'a>,
        shape: &[usize],
        strides: &[isize],
        offset: usize,
    ) -> Result<Self, Error> {
        if shape.len() != strides.len() {
            return Err(shape_error(format!(
                "{} strides for {} dimensions",
                strides.len(),
                shape.len()
            )));
        }
        if shape.contains(&0) {
            if offset > data.len() {
                return Err(shape_error(format!(
                    "offset {offset} lies past the end of the {} elements",
                    data.len()
                )));
            }
        } else {
            let (lo, hi) = reach(offset, shape, strides);
            if lo < 0 || hi >= data.len() as i128 {
                return Err(shape_error(format!(
                    "shape {shape:?} with strides {strides:?} from offset {offset} reaches outside the {} elements",
                    data.len()
                )));
            }
        }
        Ok(ArrayView {
            elements: Elements::Typed(data),
            shape: Dims::new(shape),
            strides: Dims::new(strides),
            offset,
        })
    }

    /// A view of raw bytes holding elements stored in `format`: element
    /// `idx` is the [`Storage::itemsize`] bytes at `byte_offset + Σ idx[d] *
    /// byte_strides[d]` of `bytes`. Strides may be any number of bytes
    /// (negative, zero, not a multiple of the element size) and the data need
    /// not be aligned: this is any NumPy array's memory, described by its
    /// dtype, `strides` and data pointer.
    ///
    /// The view's [`dtype`](ArrayView::dtype) is the type vexpr computes in,
    /// [`Storage::dtype`] (numexpr's widening). When the elements already are
    /// that type as the kernels read it (`int32`, `int64`, `float32`,
    /// `float64`, `complex128` or `S<n>`, in native byte order, the data at
    /// the offset aligned for the type, every stride a multiple of the
    /// element size), the result is an ordinary typed view of the same memory
    /// (of the bytes the elements span), as [`ArrayView::with_strides`] would
    /// make, and contiguous inputs are read in place. Any other view keeps its
    /// format ([`ArrayView::format`]), and an evaluation converts its elements
    /// block by block into its registers as it reads them: nothing of the
    /// input's size is copied.
    ///
    /// `bool` is always converted: any byte may be stored, and only 0 and 1
    /// are `bool`s (nonzero reads as `True`). Proving every byte 0 or 1 would
    /// take a pass over the whole input, more than converting each block as
    /// it is read.
    ///
    /// Every element must lie wholly inside `bytes` (a view with a zero in
    /// `shape` reaches none, but its offset must still be at most
    /// `bytes.len()`); otherwise, or if the dimensions and strides differ in
    /// number, an [`Error`] of kind [`ErrorKind::Shape`] says why.
    ///
    /// ```
    /// use vexpr::{ArrayView, Env, Format, Storage};
    /// // Three big-endian uint16 values, one byte into the buffer.
    /// let bytes = [0xEE, 0x00, 0x01, 0x01, 0x00, 0xFF, 0xFF];
    /// let format = Format { storage: Storage::UInt16, swapped: cfg!(target_endian = "little") };
    /// let a = ArrayView::from_bytes(&bytes, format, &[3], &[2], 1).unwrap();
    /// assert_eq!(a.dtype(), vexpr::DType::Int32);
    /// let r = vexpr::evaluate("a + 1", &Env::new().with("a", a)).unwrap();
    /// assert_eq!(r.as_slice::<i32>().unwrap(), &[2, 257, 65536]);
    /// ```
    pub fn from_bytes(
        bytes: &'a [u8],
        format: Format,
        shape: &[usize],
        byte_strides: &[isize],
        byte_offset: usize,
    ) -> Result<ArrayView<'a>, Error> {
        if shape.len() != byte_strides.len() {
            return Err(shape_error(format!(
                "{} strides for {} dimensions",
                byte_strides.len(),
                shape.len()
            )));
        }
        let width = format.storage.itemsize();
        // The bytes the elements span, `lo..end`, found in i128 so that no
        // shape or stride can overflow it.
        let (lo, end) = if shape.contains(&0) {
            if byte_offset > bytes.len() {
                return Err(shape_error(format!(
                    "offset {byte_offset} lies past the end of the {} bytes",
                    bytes.len()
                )));
            }
            (byte_offset, byte_offset)
        } else {
            if width == 0 {
                return Err(shape_error(format!(
                    "zero-width strings cannot fill shape {shape:?}: store b'' with width 1, as NumPy does"
                )));
            }
            let (lo, hi) = reach(byte_offset, shape, byte_strides);
            let end = hi.saturating_add(width as i128);
            if lo < 0 || end > bytes.len() as i128 {
                return Err(shape_error(format!(
                    "shape {shape:?} with byte strides {byte_strides:?} from byte {byte_offset} reaches outside the {} bytes",
                    bytes.len()
                )));
            }
            // Both within 0..=bytes.len(), so they fit.
            (lo as usize, end as usize)
        };
        if let Some(view) = typed_view(
            &bytes[lo..end],
            format,
            shape,
            byte_strides,
            byte_offset - lo,
        ) {
            return Ok(view);
        }
        Ok(ArrayView {
            elements: Elements::Stored { bytes, format },
            shape: Dims::new(shape),
            strides: Dims::new(byte_strides),
            offset: byte_offset,
        })
    }

    /// A view of elements stored as `storage` (a Rust value's bytes, in
    /// native byte order), element `idx` at `first + itemsize * Σ idx[d] *
    /// strides[d]`, read through the pointer: no slice over the memory
    /// between the elements is ever formed, so others may write it while
    /// the view is read. The view's strides and offset count elements when
    /// `storage` is a vexpr dtype (which it is read as, in place), bytes
    /// otherwise (a storage widened as it is read, as
    /// [`ArrayView::from_bytes`] counts them). An [`Error`] of kind
    /// [`ErrorKind::Shape`] if the dimensions and strides differ in number
    /// or the elements span more than `isize::MAX` bytes.
    ///
    /// # Safety
    ///
    /// For all of `'a`, each address that an index of `shape` reaches must
    /// hold a valid element of `storage`, every byte initialized, that
    /// nothing writes: what a shared borrow `&'a T` of each element
    /// guarantees (the elements of an `ndarray::ArrayView<'a, T, _>`). They
    /// must lie in one allocation. Nothing is required of the memory between
    /// them, which is never read.
    #[cfg_attr(not(feature = "ndarray"), allow(dead_code))]
    pub(crate) unsafe fn from_raw(
        first: NonNull<u8>,
        storage: Storage,
        shape: &[usize],
        strides: &[isize],
    ) -> Result<ArrayView<'a>, Error> {
        if shape.len() != strides.len() {
            return Err(shape_error(format!(
                "{} strides for {} dimensions",
                strides.len(),
                shape.len()
            )));
        }
        let width = storage.itemsize();
        let too_far = || {
            shape_error(format!(
                "shape {shape:?} with strides {strides:?} spans more than isize::MAX bytes"
            ))
        };
        // The lowest and highest elements reached, in elements from `first`
        // (i128: no shape or stride overflows it).
        let (lo, hi) = if shape.contains(&0) {
            (0, -1)
        } else {
            reach(0, shape, strides)
        };
        let span = (hi - lo + 1).saturating_mul(width as i128);
        if span > isize::MAX as i128 {
            return Err(too_far());
        }
        // Both at most `span`, which fits.
        let (span, below) = (span as usize, (-lo) as usize * width);
        // The lowest element's address: inside the elements' allocation, so
        // not null.
        let base = NonNull::new(first.as_ptr().wrapping_sub(below)).ok_or_else(too_far)?;
        let raw = Raw {
            base,
            span,
            storage,
            _borrow: PhantomData,
        };
        // Strides and offset count elements of a dtype, bytes otherwise. A
        // byte stride of a dimension that steps is at most the span; one
        // that does not step never matters.
        let (strides, offset): (Vec<isize>, usize) = if raw.typed() {
            (strides.to_vec(), below / width.max(1))
        } else {
            let bytes = shape
                .iter()
                .zip(strides)
                .map(|(&n, &s)| if n > 1 { s * width as isize } else { 0 })
                .collect();
            (bytes, below)
        };
        Ok(ArrayView {
            elements: Elements::Raw(raw),
            shape: Dims::new(shape),
            strides: Dims::new(&strides),
            offset,
        })
    }

    /// The element type: the type vexpr computes with, which for a view of
    /// stored bytes is its [`Storage::dtype`].
    ///
    /// ```
    /// use vexpr::{ArrayView, DType, Format, Storage};
    /// let v = ArrayView::from_bytes(&[1u8, 2], Format::native(Storage::UInt8), &[2], &[1], 0).unwrap();
    /// assert_eq!(v.dtype(), DType::Int32); // uint8 is computed as int32
    /// ```
    pub fn dtype(&self) -> DType {
        match self.elements {
            Elements::Typed(data) => data.dtype(),
            Elements::Stored { format, .. } => format.storage.dtype(),
            Elements::Raw(raw) => raw.storage.dtype(),
        }
    }

    /// The shape.
    ///
    /// ```
    /// let v = vexpr::ArrayView::from_slice(&[0.0f32; 4][..]);
    /// assert_eq!(v.shape(), &[4]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Strides: in elements of [`ArrayView::data`], or in bytes of
    /// [`ArrayView::bytes`] for a view that keeps its [`ArrayView::format`].
    ///
    /// ```
    /// use vexpr::{ArrayView, Data};
    /// let v = ArrayView::contiguous(Data::Float64(&[0.0; 6]), &[2, 3]).unwrap();
    /// assert_eq!(v.strides(), &[3, 1]);
    /// ```
    pub fn strides(&self) -> &[isize] {
        &self.strides
    }

    /// Offset of the first element: in elements of [`ArrayView::data`], or
    /// in bytes of [`ArrayView::bytes`] for a view that keeps its
    /// [`ArrayView::format`].
    ///
    /// ```
    /// let m = [1.0, 2.0, 3.0];
    /// let v = vexpr::ArrayView::strided(&m[..], &[2], &[1], 1).unwrap();
    /// assert_eq!(v.offset(), 1);
    /// ```
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The underlying elements, typed; `None` for a view of stored bytes
    /// that are converted as they are read (whose [`ArrayView::format`] is
    /// `Some`), and for a view read through a pointer (an `ndarray` view
    /// whose elements leave gaps, `vexpr::interop::ndarray`), whose memory
    /// has no slice.
    ///
    /// ```
    /// use vexpr::{ArrayView, Format, Storage};
    /// let bytes = [1u8, 2, 3];
    /// let v = ArrayView::from_bytes(&bytes, Format::native(Storage::UInt8), &[3], &[1], 0).unwrap();
    /// assert!(v.data().is_none());
    /// assert_eq!(v.bytes(), &bytes);
    /// ```
    pub fn data(&self) -> Option<Data<'a>> {
        match self.elements {
            Elements::Typed(data) => Some(data),
            Elements::Stored { .. } | Elements::Raw(_) => None,
        }
    }

    /// The memory of a view read through a pointer, which has no slice.
    pub(crate) fn raw(&self) -> Option<Raw<'a>> {
        match self.elements {
            Elements::Raw(raw) => Some(raw),
            _ => None,
        }
    }

    /// How the elements are stored, for a view of stored bytes that are
    /// converted as they are read ([`ArrayView::from_bytes`], or an
    /// `ndarray` view of a type that is widened); `None` for a typed view
    /// (whose [`ArrayView::data`] is `Some`, unless it is read through a
    /// pointer).
    ///
    /// ```
    /// use vexpr::{ArrayView, Format, Storage};
    /// let bytes = [0u8; 8];
    /// let f2 = Format::native(Storage::Float16);
    /// let v = ArrayView::from_bytes(&bytes, f2, &[4], &[2], 0).unwrap();
    /// assert_eq!(v.format(), Some(f2));
    /// assert_eq!(v.dtype(), vexpr::DType::Float32);
    /// ```
    pub fn format(&self) -> Option<Format> {
        match self.elements {
            Elements::Typed(_) => None,
            Elements::Stored { format, .. } => Some(format),
            Elements::Raw(raw) => (!raw.typed()).then_some(Format::native(raw.storage)),
        }
    }

    /// The memory the strides and offset index, as bytes: the data's bytes
    /// for a typed view, the stored bytes otherwise. Empty for a view read
    /// through a pointer (an `ndarray` view whose elements leave gaps), whose
    /// memory between its elements others may be writing, so that no slice
    /// of it can be lent out: [`ArrayView::as_ptr`] still gives where its
    /// elements are.
    ///
    /// ```
    /// let v = vexpr::ArrayView::from_slice(&[1i32, 2][..]);
    /// assert_eq!(v.bytes().len(), 8);
    /// ```
    pub fn bytes(&self) -> &'a [u8] {
        match self.elements {
            Elements::Typed(data) => data.as_bytes(),
            Elements::Stored { bytes, .. } => bytes,
            Elements::Raw(_) => &[],
        }
    }

    /// The address of the first element, at index `(0, ..., 0)` (for a view
    /// with no elements, where it would be): the caller's memory, for every
    /// view, since none is copied.
    ///
    /// ```
    /// let m = [1.0, 2.0, 3.0, 4.0];
    /// let v = vexpr::ArrayView::strided(&m[..], &[2], &[-2], 3).unwrap();
    /// assert_eq!(v.as_ptr(), std::ptr::from_ref(&m[3]).cast::<u8>());
    /// ```
    pub fn as_ptr(&self) -> *const u8 {
        let (start, unit) = match self.elements {
            Elements::Typed(data) => (data.as_bytes().as_ptr(), data.dtype().itemsize()),
            Elements::Stored { bytes, .. } => (bytes.as_ptr(), 1),
            Elements::Raw(raw) => {
                let unit = if raw.typed() {
                    raw.storage.itemsize()
                } else {
                    1
                };
                (raw.base.as_ptr().cast_const(), unit)
            }
        };
        // Inside (or one past) the memory the view indexes: no wrap occurs.
        start.wrapping_add(self.offset * unit)
    }

    /// Number of elements.
    ///
    /// ```
    /// use vexpr::{ArrayView, Data};
    /// let v = ArrayView::contiguous(Data::Bool(&[true; 6]), &[3, 2]).unwrap();
    /// assert_eq!(v.len(), 6);
    /// ```
    pub fn len(&self) -> usize {
        // A broadcast view (stride 0) may describe more elements than exist;
        // saturate rather than wrap, so that such a count is never mistaken.
        self.shape
            .iter()
            .fold(1usize, |acc, &n| acc.saturating_mul(n))
    }

    /// True when the view has no elements.
    ///
    /// ```
    /// assert!(vexpr::ArrayView::from_slice(&[0i64; 0][..]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same elements seen with `ndim` dimensions (the view's own after
    /// leading ones of length 1, as broadcasting aligns shapes), in reverse
    /// order when `reverse` (a transposition: a Fortran-order traversal of
    /// the view is a C-order traversal of this). `ndim` is at least the
    /// view's.
    pub(crate) fn arranged(&self, ndim: usize, reverse: bool) -> ArrayView<'a> {
        let pad = ndim - self.shape.len();
        let mut shape: Vec<usize> = std::iter::repeat_n(1, pad)
            .chain(self.shape.iter().copied())
            .collect();
        let mut strides: Vec<isize> = std::iter::repeat_n(0, pad)
            .chain(self.strides.iter().copied())
            .collect();
        if reverse {
            shape.reverse();
            strides.reverse();
        }
        ArrayView {
            elements: self.elements,
            shape: Dims::new(&shape),
            strides: Dims::new(&strides),
            offset: self.offset,
        }
    }

    /// The part of the view from index `start` (one per dimension) with the
    /// trailing dimensions `tail`: the view's last `tail.len()` dimensions
    /// cut to `tail` from `start`'s last entries, the others fixed at
    /// `start`'s first. The part must lie inside the view: checked, since
    /// a view read through a pointer must reach only its own elements.
    pub(crate) fn window(&self, start: &[usize], tail: &[usize]) -> ArrayView<'a> {
        let nd = self.shape.len();
        assert!(start.len() == nd && tail.len() <= nd);
        assert!(
            start
                .iter()
                .zip(self.shape.iter())
                .all(|(&i, &n)| i < n.max(1))
        );
        assert!(
            tail.iter()
                .zip(&start[nd - tail.len()..])
                .zip(&self.shape[nd - tail.len()..])
                .all(|((&t, &i), &n)| t == 0 || i + t <= n)
        );
        let moved: isize = start
            .iter()
            .zip(self.strides.iter())
            .map(|(&i, &s)| i as isize * s)
            .sum();
        let strides = &self.strides[self.strides.len() - tail.len()..];
        ArrayView {
            elements: self.elements,
            shape: Dims::new(tail),
            strides: Dims::new(strides),
            // Inside the view, so inside its data: not below zero.
            offset: (self.offset as isize + moved) as usize,
        }
    }

    /// True if the elements are row-major and back to back.
    ///
    /// ```
    /// let m = [1.0, 2.0, 3.0, 4.0];
    /// assert!(vexpr::ArrayView::from_slice(&m[..]).is_c_contiguous());
    /// assert!(!vexpr::ArrayView::strided(&m[..], &[2], &[2], 0).unwrap().is_c_contiguous());
    /// ```
    pub fn is_c_contiguous(&self) -> bool {
        // Strides count elements, or bytes for stored elements.
        let unit = match self.elements {
            Elements::Typed(_) => 1,
            Elements::Stored { format, .. } => format.storage.itemsize() as isize,
            Elements::Raw(raw) if raw.typed() => 1,
            Elements::Raw(raw) => raw.storage.itemsize() as isize,
        };
        // Row-major strides from the last dimension in, without allocating
        // them (this runs on every evaluation).
        let mut step = Some(unit);
        for (&n, &s) in self.shape.iter().zip(self.strides.iter()).rev() {
            if n > 1 && Some(s) != step {
                return false;
            }
            step = step.and_then(|k| k.checked_mul(n.max(1) as isize));
        }
        true
    }
}

/// The typed view [`ArrayView::from_bytes`] makes when the stored elements
/// already are elements of their dtype as the kernels read them: `span` is
/// the bytes the elements cover, the first element `offset` bytes into it.
/// `None` if they are not (the format, the alignment or the strides differ).
fn typed_view<'a>(
    span: &'a [u8],
    format: Format,
    shape: &[usize],
    byte_strides: &[isize],
    offset: usize,
) -> Option<ArrayView<'a>> {
    if !format.is_native() || !format.storage.is_dtype() {
        return None;
    }
    let width = format.storage.itemsize().max(1);
    // A dimension of length 1 never steps, so its stride does not matter.
    let strides = shape
        .iter()
        .zip(byte_strides)
        .map(|(&n, &s)| match n {
            0 | 1 => Some(0),
            _ => (s % width as isize == 0).then_some(s / width as isize),
        })
        .collect::<Option<Vec<isize>>>()?;
    if !offset.is_multiple_of(width) {
        return None;
    }
    // bytemuck refuses a misaligned span, so the typed slice is sound and
    // the fallback a converted view. Bool is always converted (see
    // `from_bytes`).
    let data = match format.storage {
        Storage::Int32 => Data::Int32(bytemuck::try_cast_slice(span).ok()?),
        Storage::Int64 => Data::Int64(bytemuck::try_cast_slice(span).ok()?),
        Storage::Float32 => Data::Float32(bytemuck::try_cast_slice(span).ok()?),
        Storage::Float64 => Data::Float64(bytemuck::try_cast_slice(span).ok()?),
        Storage::Complex128 => Data::Complex128(bytemuck::try_cast_slice(span).ok()?),
        Storage::Bytes(width) => Data::Bytes { data: span, width },
        _ => return None,
    };
    ArrayView::with_strides(data, shape, &strides, offset / width).ok()
}

/// Owned element storage of one dtype: what an [`Array`] holds.
///
/// ```
/// let r = vexpr::evaluate("2 > 1", &vexpr::Env::new()).unwrap();
/// assert_eq!(r.into_buffer(), vexpr::Buffer::Bool(vec![true]));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Buffer {
    /// bool
    Bool(Vec<bool>),
    /// int32
    Int32(Vec<i32>),
    /// int64
    Int64(Vec<i64>),
    /// float32
    Float32(Vec<f32>),
    /// float64
    Float64(Vec<f64>),
    /// complex128
    Complex128(Vec<Complex64>),
    /// Fixed-width byte strings, back to back.
    Bytes {
        /// The strings.
        data: Vec<u8>,
        /// Bytes per string.
        width: usize,
    },
}

impl Buffer {
    /// `len` zeroed elements of `dtype`.
    ///
    /// # Panics
    /// As `vec!` does, when the size overflows or the memory cannot be had
    /// (an abort); [`Buffer::try_zeros`] says `None` instead.
    ///
    /// ```
    /// use vexpr::{Buffer, DType};
    /// assert_eq!(Buffer::zeros(DType::Int32, 3), Buffer::Int32(vec![0; 3]));
    /// ```
    pub fn zeros(dtype: DType, len: usize) -> Buffer {
        match dtype {
            DType::Bool => Buffer::Bool(vec![false; len]),
            DType::Int32 => Buffer::Int32(vec![0; len]),
            DType::Int64 => Buffer::Int64(vec![0; len]),
            DType::Float32 => Buffer::Float32(vec![0.0; len]),
            DType::Float64 => Buffer::Float64(vec![0.0; len]),
            DType::Complex128 => Buffer::Complex128(vec![Complex64::new(0.0, 0.0); len]),
            DType::Bytes(width) => Buffer::Bytes {
                // Saturating, so that an overflow is `vec!`'s capacity
                // overflow rather than a short buffer.
                data: vec![0; len.saturating_mul(width)],
                width,
            },
        }
    }

    /// `len` zeroed elements of `dtype`, or `None` if the memory cannot be had
    /// (so that an absurd broadcast is an error, not an abort).
    ///
    /// ```
    /// use vexpr::{Buffer, DType};
    /// assert!(Buffer::try_zeros(DType::Float64, 4).is_some());
    /// assert!(Buffer::try_zeros(DType::Float64, usize::MAX).is_none());
    /// ```
    pub fn try_zeros(dtype: DType, len: usize) -> Option<Buffer> {
        use crate::memory::try_filled;
        Some(match dtype {
            DType::Bool => Buffer::Bool(try_filled(false, len)?),
            DType::Int32 => Buffer::Int32(try_filled(0, len)?),
            DType::Int64 => Buffer::Int64(try_filled(0, len)?),
            DType::Float32 => Buffer::Float32(try_filled(0.0, len)?),
            DType::Float64 => Buffer::Float64(try_filled(0.0, len)?),
            DType::Complex128 => Buffer::Complex128(try_filled(Complex64::new(0.0, 0.0), len)?),
            DType::Bytes(width) => Buffer::Bytes {
                data: try_filled(0, len.checked_mul(width)?)?,
                width,
            },
        })
    }

    /// Borrows the storage.
    ///
    /// ```
    /// let b = vexpr::Buffer::Float32(vec![1.0, 2.0]);
    /// assert_eq!(b.data().len(), 2);
    /// ```
    pub fn data(&self) -> Data<'_> {
        match self {
            Buffer::Bool(v) => Data::Bool(v),
            Buffer::Int32(v) => Data::Int32(v),
            Buffer::Int64(v) => Data::Int64(v),
            Buffer::Float32(v) => Data::Float32(v),
            Buffer::Float64(v) => Data::Float64(v),
            Buffer::Complex128(v) => Data::Complex128(v),
            Buffer::Bytes { data, width } => Data::Bytes {
                data,
                width: *width,
            },
        }
    }

    /// The storage as writable bytes.
    pub(crate) fn as_bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Buffer::Bool(v) => bools_as_bytes_mut(v),
            Buffer::Int32(v) => bytemuck::cast_slice_mut(v),
            Buffer::Int64(v) => bytemuck::cast_slice_mut(v),
            Buffer::Float32(v) => bytemuck::cast_slice_mut(v),
            Buffer::Float64(v) => bytemuck::cast_slice_mut(v),
            Buffer::Complex128(v) => bytemuck::cast_slice_mut(v),
            Buffer::Bytes { data, .. } => data,
        }
    }
}

/// Views booleans as bytes for kernels to write.
///
/// Sound only because every kernel whose result type is bool writes 0 or 1
/// (comparisons and predicates write `u8::from(bool)`, logical operators
/// combine 0/1 operands, `where` and `copy` move existing booleans, and
/// nothing casts to bool); `tests/properties` checks boolean results for this.
pub(crate) fn bools_as_bytes_mut(v: &mut [bool]) -> &mut [u8] {
    // SAFETY: `bool` and `u8` have the same size and alignment, and the only
    // writers through this view are kernels that write 0 or 1 (see above), so
    // every byte remains a valid `bool`.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), v.len()) }
}

/// An owned N-dimensional array: what evaluation returns.
///
/// ```
/// let a = vexpr::Array::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// assert_eq!(a.shape(), &[2, 2]);
/// assert_eq!(a.as_slice::<f64>().unwrap()[3], 4.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    buffer: Buffer,
    shape: Vec<usize>,
}

impl Array {
    /// An array of `shape` from row-major elements.
    ///
    /// ```
    /// let a = vexpr::Array::from_vec(vec![1i64, 2, 3, 4], &[2, 2]).unwrap();
    /// assert_eq!(a.shape(), &[2, 2]);
    /// assert_eq!(vexpr::Array::from_vec(vec![1i64], &[2]).unwrap_err().kind(), vexpr::ErrorKind::Shape);
    /// ```
    pub fn from_vec<T: Element>(values: Vec<T>, shape: &[usize]) -> Result<Array, Error> {
        Array::from_buffer(T::buffer(values), shape)
    }

    /// An array of `shape` from a buffer.
    ///
    /// ```
    /// use vexpr::{Array, Buffer, DType};
    /// let a = Array::from_buffer(Buffer::Bytes { data: b"abcdef".to_vec(), width: 3 }, &[2]).unwrap();
    /// assert_eq!(a.dtype(), DType::Bytes(3));
    /// ```
    pub fn from_buffer(buffer: Buffer, shape: &[usize]) -> Result<Array, Error> {
        let size: Option<usize> = shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
        if let Buffer::Bytes { width: 0, .. } = buffer
            && size != Some(0)
        {
            return Err(shape_error(format!(
                "zero-width strings cannot fill shape {shape:?}: store b'' with width 1, as NumPy does"
            )));
        }
        if size != Some(buffer.data().len()) {
            return Err(shape_error(format!(
                "shape {shape:?} does not match {} elements",
                buffer.data().len()
            )));
        }
        Ok(Array {
            buffer,
            shape: shape.to_vec(),
        })
    }

    /// A zero-dimensional array holding `value`. An empty byte string is
    /// stored as NumPy stores it, as `S1` (one NUL): a zero-width string type
    /// could not say how many elements its buffer holds.
    ///
    /// ```
    /// let a = vexpr::Array::from_scalar(&vexpr::Scalar::Int32(7));
    /// assert_eq!((a.shape(), a.len()), (&[][..], 1));
    /// ```
    pub fn from_scalar(value: &Scalar) -> Array {
        let dtype = match value.dtype() {
            DType::Bytes(0) => DType::Bytes(1),
            dtype => dtype,
        };
        let mut buffer = Buffer::zeros(dtype, 1);
        let bytes = value.to_bytes();
        buffer.as_bytes_mut()[..bytes.len()].copy_from_slice(&bytes);
        Array {
            buffer,
            shape: Vec::new(),
        }
    }

    /// The element type.
    ///
    /// ```
    /// let a = vexpr::Array::from_vec(vec![true, false], &[2]).unwrap();
    /// assert_eq!(a.dtype(), vexpr::DType::Bool);
    /// ```
    pub fn dtype(&self) -> DType {
        self.buffer.data().dtype()
    }

    /// The shape (empty for a zero-dimensional result).
    ///
    /// ```
    /// let a = vexpr::Array::from_vec(vec![0.0f64; 6], &[3, 2]).unwrap();
    /// assert_eq!(a.shape(), &[3, 2]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of elements.
    ///
    /// ```
    /// let a = vexpr::Array::from_vec(vec![0.0f64; 6], &[3, 2]).unwrap();
    /// assert_eq!(a.len(), 6);
    /// ```
    pub fn len(&self) -> usize {
        self.buffer.data().len()
    }

    /// True when there are no elements.
    ///
    /// ```
    /// assert!(vexpr::Array::from_vec(Vec::<f64>::new(), &[0, 3]).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The storage.
    ///
    /// ```
    /// let a = vexpr::Array::from_vec(vec![1i32], &[1]).unwrap();
    /// assert_eq!(a.buffer(), &vexpr::Buffer::Int32(vec![1]));
    /// ```
    pub fn buffer(&self) -> &Buffer {
        &self.buffer
    }

    /// Takes the storage.
    ///
    /// ```
    /// let a = vexpr::Array::from_vec(vec![1i32], &[1]).unwrap();
    /// assert_eq!(a.into_buffer(), vexpr::Buffer::Int32(vec![1]));
    /// ```
    pub fn into_buffer(self) -> Buffer {
        self.buffer
    }

    /// The elements as a slice of `T`, if that is the element type.
    ///
    /// ```
    /// let a = vexpr::Array::from_vec(vec![1.5f64, 2.5], &[2]).unwrap();
    /// assert_eq!(a.as_slice::<f64>(), Some(&[1.5, 2.5][..]));
    /// assert_eq!(a.as_slice::<f32>(), None);
    /// ```
    pub fn as_slice<T: Element>(&self) -> Option<&[T]> {
        T::slice(&self.buffer)
    }

    /// The elements as a vector of `T`, if that is the element type.
    ///
    /// ```
    /// let a = vexpr::Array::from_vec(vec![3i64, 4], &[2]).unwrap();
    /// assert_eq!(a.into_vec::<i64>(), Some(vec![3, 4]));
    /// ```
    pub fn into_vec<T: Element>(self) -> Option<Vec<T>> {
        T::vec(self.buffer)
    }

    /// Element `i` in row-major order.
    ///
    /// ```
    /// use vexpr::{Array, Scalar};
    /// let a = Array::from_vec(vec![3i64, 4], &[2]).unwrap();
    /// assert_eq!(a.get(1), Some(Scalar::Int64(4)));
    /// assert_eq!(a.get(2), None);
    /// ```
    pub fn get(&self, i: usize) -> Option<Scalar> {
        let data = self.buffer.data();
        let w = data.dtype().itemsize();
        (i < data.len())
            .then(|| Scalar::from_bytes(data.dtype(), &data.as_bytes()[i * w..(i + 1) * w]))
    }

    /// A view of the whole array.
    ///
    /// ```
    /// let a = vexpr::Array::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
    /// let r = vexpr::evaluate("x + 1", &vexpr::Env::new().with("x", a.view())).unwrap();
    /// assert_eq!(r.as_slice::<f64>().unwrap(), &[2.0, 3.0]);
    /// ```
    pub fn view(&self) -> ArrayView<'_> {
        // Cannot fail: every constructor checks that the buffer holds the
        // shape's element count (`from_buffer`) or makes it so (`from_scalar`).
        ArrayView::contiguous(self.buffer.data(), &self.shape).expect("an array matches its shape")
    }
}

/// A value bound to a variable: an array view or a scalar.
///
/// ```
/// use vexpr::{DType, Scalar, Value};
/// let a = [1i32, 2, 3];
/// assert_eq!(Value::from(&a[..]).shape(), &[3]);
/// assert_eq!(Value::from(Scalar::Float32(0.5)).dtype(), DType::Float32);
/// ```
#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// An array (of any shape, 0-d included).
    Array(ArrayView<'a>),
    /// A scalar, broadcast like a 0-d array.
    Scalar(Scalar),
}

impl Value<'_> {
    /// The element type.
    ///
    /// ```
    /// assert_eq!(vexpr::Value::from(&[true][..]).dtype(), vexpr::DType::Bool);
    /// ```
    pub fn dtype(&self) -> DType {
        match self {
            Value::Array(a) => a.dtype(),
            Value::Scalar(s) => s.dtype(),
        }
    }

    /// The shape (empty for scalars).
    ///
    /// ```
    /// assert!(vexpr::Value::from(vexpr::Scalar::Int64(3)).shape().is_empty());
    /// ```
    pub fn shape(&self) -> &[usize] {
        match self {
            Value::Array(a) => a.shape(),
            Value::Scalar(_) => &[],
        }
    }
}

impl<'a, T: Element> From<&'a [T]> for Value<'a> {
    fn from(slice: &'a [T]) -> Self {
        Value::Array(ArrayView::from_slice(slice))
    }
}

impl<'a, T: Element> From<&'a Vec<T>> for Value<'a> {
    fn from(v: &'a Vec<T>) -> Self {
        Value::Array(ArrayView::from_slice(v))
    }
}

impl<'a, T: Element, const N: usize> From<&'a [T; N]> for Value<'a> {
    fn from(v: &'a [T; N]) -> Self {
        Value::Array(ArrayView::from_slice(v))
    }
}

impl<'a> From<&'a Array> for Value<'a> {
    fn from(a: &'a Array) -> Self {
        Value::Array(a.view())
    }
}

impl<'a> From<ArrayView<'a>> for Value<'a> {
    fn from(a: ArrayView<'a>) -> Self {
        Value::Array(a)
    }
}

impl From<Scalar> for Value<'_> {
    fn from(s: Scalar) -> Self {
        Value::Scalar(s)
    }
}

macro_rules! scalar_value {
    ($($t:ty),*) => {$(
        impl From<$t> for Value<'_> {
            fn from(v: $t) -> Self {
                Value::Scalar(v.scalar())
            }
        }
    )*};
}
scalar_value!(bool, i32, i64, f32, f64, Complex64);

/// Variables by name: what an expression is evaluated against.
///
/// ```
/// let a = [1.0, 2.0, 3.0];
/// let env = vexpr::Env::new().with("a", &a[..]).with("k", 2.0);
/// let r = vexpr::evaluate("k * a", &env).unwrap();
/// assert_eq!(r.as_slice::<f64>().unwrap(), &[2.0, 4.0, 6.0]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Env<'a> {
    vars: Vec<(String, Value<'a>)>,
}

impl<'a> Env<'a> {
    /// An empty environment.
    ///
    /// ```
    /// assert_eq!(vexpr::Env::new().iter().count(), 0);
    /// ```
    pub fn new() -> Self {
        Env::default()
    }

    /// Binds `name` (replacing an earlier binding) and returns the environment.
    ///
    /// ```
    /// use vexpr::{Env, Scalar};
    /// let a = [1.0, 2.0];
    /// let env = Env::new().with("a", &a[..]).with("k", Scalar::Float64(0.5));
    /// assert_eq!(env.iter().count(), 2);
    /// ```
    pub fn with(mut self, name: &str, value: impl Into<Value<'a>>) -> Self {
        self.set(name, value);
        self
    }

    /// Binds `name`, replacing an earlier binding.
    ///
    /// ```
    /// use vexpr::{DType, Env, Scalar};
    /// let mut env = Env::new();
    /// env.set("k", Scalar::Int32(1));
    /// env.set("k", Scalar::Int64(2));
    /// assert_eq!(env.get("k").unwrap().dtype(), DType::Int64);
    /// ```
    pub fn set(&mut self, name: &str, value: impl Into<Value<'a>>) {
        let value = value.into();
        match self.vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name.to_string(), value)),
        }
    }

    /// The value bound to `name`.
    ///
    /// ```
    /// let env = vexpr::Env::new().with("a", &[1i32][..]);
    /// assert!(env.get("a").is_some() && env.get("b").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&Value<'a>> {
        self.vars.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// All bindings, in the order they were first made.
    ///
    /// ```
    /// let env = vexpr::Env::new().with("b", &[1i32][..]).with("a", &[2i32][..]);
    /// let names: Vec<&str> = env.iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["b", "a"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        self.vars.iter().map(|(n, v)| (n.as_str(), v))
    }
}
