//! Python values in, [`vexpr::Value`]s out, without copying arrays.
//!
//! An ndarray of any layout (C, Fortran, any strides, negative and zero
//! included), alignment and byte order is read in place: its memory becomes a
//! byte slice and [`vexpr::ArrayView::from_bytes`] decides whether the VM reads
//! it directly (native, aligned, one of vexpr's element types) or converts it
//! block by block (int8/16, uint8/16/32/64, float16, complex64, swapped
//! bytes, unaligned). Python's `bool`, `int`, `float`, `complex` and `bytes`
//! become scalars without NumPy; anything else goes through `numpy.asarray`,
//! as numexpr does. A dtype numexpr refuses is a `vexpr.UnsupportedDTypeError`.

use numpy::npyffi::{self, NPY_TYPES};
use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyComplex, PyFloat, PyInt};
use vexpr::{ArrayView, DType, Data, Format, Scalar, Storage, Value};

/// One input, held for the length of an evaluation.
pub enum Input<'py> {
    /// An ndarray (kept alive by this reference while it is read) and how its
    /// elements are stored.
    Array(Bound<'py, PyUntypedArray>, Format),
    /// A Python scalar.
    Scalar(Scalar),
}

impl<'py> Input<'py> {
    /// Takes a Python value the way numexpr's `numpy.asarray` would see it.
    pub fn from_py(value: &Bound<'py, PyAny>) -> PyResult<Input<'py>> {
        if let Ok(array) = value.cast::<PyUntypedArray>() {
            let format = match native_format(array) {
                Some(format) => format,
                None => format_of(array)?,
            };
            return Ok(Input::Array(array.clone(), format));
        }
        // `bool` before `int`: Python's bools are ints.
        if value.is_exact_instance_of::<PyBool>() {
            return Ok(Input::Scalar(Scalar::Bool(value.extract()?)));
        }
        if value.is_exact_instance_of::<PyFloat>() {
            return Ok(Input::Scalar(Scalar::Float64(value.extract()?)));
        }
        if value.is_exact_instance_of::<PyInt>() {
            // NumPy makes an int64 of what fits; larger ints take the general
            // route below (uint64, or an error).
            if let Ok(v) = value.extract::<i64>() {
                return Ok(Input::Scalar(Scalar::Int64(v)));
            }
        }
        if value.is_exact_instance_of::<PyComplex>() {
            let c = value.cast::<PyComplex>()?;
            return Ok(Input::Scalar(Scalar::Complex128(vexpr::Complex64::new(
                c.real(),
                c.imag(),
            ))));
        }
        if value.is_exact_instance_of::<PyBytes>() {
            return Ok(Input::Scalar(Scalar::Bytes(value.extract()?)));
        }
        // `numpy.asarray` would compute a Dask array whole, in memory.
        if is_dask_array(value)? {
            return Err(DaskArrayInput::new_err(
                "a dask.array.Array input: vexpr.evaluate and vexpr.dask.evaluate take it \
                 (a lazy Dask array results); NumExpr objects and validate take in-memory arrays",
            ));
        }
        let array = asarray(value.py())?.call1((value,))?;
        let array = array.cast_into::<PyUntypedArray>()?;
        let format = format_of(&array)?;
        Ok(Input::Array(array, format))
    }

    /// The type vexpr computes this input in.
    pub fn dtype(&self) -> DType {
        match self {
            Input::Array(_, format) => format.storage.dtype(),
            Input::Scalar(s) => s.dtype(),
        }
    }

    /// The NumPy array, if this input is one.
    pub fn array(&self) -> Option<&Bound<'py, PyUntypedArray>> {
        match self {
            Input::Array(a, _) => Some(a),
            Input::Scalar(_) => None,
        }
    }

    /// The value vexpr reads. With `reversed`, an array's axes are reversed
    /// after padding it to `ndim` dimensions (how a Fortran-ordered evaluation
    /// is run as a C-ordered one over the transposed views).
    pub fn value(&self, reversed: Option<usize>) -> PyResult<Value<'_>> {
        match self {
            Input::Scalar(s) => Ok(Value::Scalar(s.clone())),
            Input::Array(array, format) => {
                if reversed.is_none()
                    && let Some(view) = typed_view(array, *format)
                {
                    return Ok(Value::Array(view));
                }
                let (bytes, offset) = memory_of(array);
                let mut shape = array.shape().to_vec();
                let mut strides = array.strides().to_vec();
                if let Some(ndim) = reversed {
                    let pad = ndim - shape.len();
                    shape.splice(0..0, std::iter::repeat_n(1, pad));
                    strides.splice(0..0, std::iter::repeat_n(0, pad));
                    shape.reverse();
                    strides.reverse();
                }
                ArrayView::from_bytes(bytes, *format, &shape, &strides, offset)
                    .map(Value::Array)
                    .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
            }
        }
    }
}

pyo3::create_exception!(
    _vexpr,
    DaskArrayInput,
    pyo3::exceptions::PyTypeError,
    "A `dask.array.Array` input where only in-memory arrays are taken. \
     `evaluate` catches it and hands the expression to `vexpr.dask.evaluate`."
);

/// Whether `value` is a `dask.array.Array`, without importing Dask: while no
/// module `dask.array` is loaded there is no such array. Only asked of values
/// that are neither ndarrays nor Python scalars, so the ordinary path never
/// pays for it.
fn is_dask_array(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    static MODULES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let py = value.py();
    let modules = MODULES.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("sys")?.getattr("modules")?.unbind())
    })?;
    let Ok(module) = modules.bind(py).get_item("dask.array") else {
        return Ok(false);
    };
    // A module still being imported may not have `Array` yet.
    match module.getattr("Array") {
        Ok(array_type) => value.is_instance(&array_type),
        Err(_) => Ok(false),
    }
}

/// `numpy.asarray`, looked up once.
fn asarray(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static ASARRAY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    ASARRAY
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("numpy")?.getattr("asarray")?.unbind())
        })
        .map(|f| f.bind(py))
}

/// The format of an array of one of NumPy's built-in numeric types in native
/// byte order (what nearly every input is), read from its descriptor's type
/// number without the general checks of [`format_of`]; `None` for anything
/// else, which [`format_of`] then takes.
fn native_format(array: &Bound<'_, PyUntypedArray>) -> Option<Format> {
    // SAFETY: `as_array_ptr` points at the live array object `array` holds,
    // whose `descr` is never null (every ndarray has a dtype).
    let descr = unsafe { (*array.as_array_ptr()).fields.descr };
    // SAFETY: the array holds a reference to its descriptor.
    let storage = unsafe { native_storage(descr)? };
    Some(Format {
        storage,
        swapped: false,
    })
}

/// The storage of the elements of a NumPy dtype of one of its built-in
/// numeric types in native byte order, `None` for any other (see
/// [`native_format`]).
///
/// # Safety
///
/// `descr` points at a live NumPy dtype object.
pub(crate) unsafe fn native_storage(descr: *mut npyffi::PyArray_Descr) -> Option<Storage> {
    // SAFETY: `descr` points at a live descriptor (the caller's
    // contract). `type_num` and `byteorder` lie at the same offsets in
    // the descriptors of NumPy 1 and 2 (rust-numpy's `PyArray_DescrProto`
    // is the common prefix), so they are read the way `PyArrayDescr::num`
    // and `byteorder` read them.
    let (type_num, byteorder) = unsafe {
        let d = descr.cast::<npyffi::PyArray_DescrProto>();
        ((*d).type_num, (*d).byteorder as u8)
    };
    // '=' is native, '|' is "not applicable" (single bytes); anything else
    // (an explicit '<' or '>') takes the general path.
    if byteorder != b'=' && byteorder != b'|' {
        return None;
    }
    // The built-in numeric types have no fields and no subarray (those are
    // `NPY_VOID`); C's `long` is 4 or 8 bytes depending on the platform.
    let long = if std::mem::size_of::<std::ffi::c_long>() == 8 {
        Storage::Int64
    } else {
        Storage::Int32
    };
    let storage = match type_num {
        t if t == NPY_TYPES::NPY_DOUBLE as i32 => Storage::Float64,
        t if t == NPY_TYPES::NPY_FLOAT as i32 => Storage::Float32,
        t if t == NPY_TYPES::NPY_LONG as i32 => long,
        t if t == NPY_TYPES::NPY_LONGLONG as i32 => Storage::Int64,
        t if t == NPY_TYPES::NPY_INT as i32 => Storage::Int32,
        t if t == NPY_TYPES::NPY_BOOL as i32 => Storage::Bool,
        t if t == NPY_TYPES::NPY_CDOUBLE as i32 => Storage::Complex128,
        _ => return None,
    };
    Some(storage)
}

/// A typed view of an array whose elements the VM reads as they are (native
/// byte order, aligned, strides in whole elements, one of vexpr's numeric
/// types but bool), made straight from the array's shape and strides; `None`
/// for any other array, which [`ArrayView::from_bytes`] then takes. The same
/// view `from_bytes` would make, for less work per call.
fn typed_view<'a>(array: &'a Bound<'_, PyUntypedArray>, format: Format) -> Option<ArrayView<'a>> {
    if format.swapped {
        return None;
    }
    match format.storage {
        Storage::Float64 => typed(array, Data::Float64),
        Storage::Float32 => typed(array, Data::Float32),
        Storage::Int64 => typed(array, Data::Int64),
        Storage::Int32 => typed(array, Data::Int32),
        Storage::Complex128 => typed(array, Data::Complex128),
        // bool is always converted (any byte but 0 and 1 is not a `bool`);
        // the narrow types are converted; strings keep `from_bytes`.
        _ => None,
    }
}

/// Dimensions whose element strides [`typed`] keeps on the stack.
const TYPED_DIMS: usize = 8;

fn typed<'a, T: Copy>(
    array: &'a Bound<'_, PyUntypedArray>,
    wrap: fn(&'a [T]) -> Data<'a>,
) -> Option<ArrayView<'a>> {
    let shape = array.shape();
    let byte_strides = array.strides();
    if shape.len() > TYPED_DIMS || shape.contains(&0) {
        return None;
    }
    let size = std::mem::size_of::<T>() as isize;
    let data = data_ptr(array);
    if !(data as usize).is_multiple_of(std::mem::align_of::<T>()) {
        return None;
    }
    // Element strides (a dimension of length 1 never steps: its stride is
    // whatever NumPy made it), and the lowest and highest element reachable
    // from the first, in elements.
    let mut strides = [0isize; TYPED_DIMS];
    let (mut lo, mut hi) = (0isize, 0isize);
    for ((&n, &s), slot) in shape.iter().zip(byte_strides).zip(&mut strides) {
        if n == 1 {
            continue;
        }
        if s % size != 0 {
            return None;
        }
        *slot = s / size;
        // NumPy guarantees that `(n - 1) * stride` bytes stay within the
        // array's memory, so these neither overflow nor leave it.
        let reach = *slot * (n as isize - 1);
        if reach < 0 {
            lo += reach;
        } else {
            hi += reach;
        }
    }
    // SAFETY: NumPy guarantees that every element of a non-empty array lies in
    // memory it owns or borrows and keeps alive while the array is (`array`
    // is borrowed for 'a): elements `lo..=hi` from the first, which is
    // aligned for `T` (checked above) as are all of them (strides are whole
    // elements). The dtype is `T`'s (`format_of`/`native_format` read it),
    // and every bit pattern is a valid `T` (a float, an integer or a pair of
    // floats; not bool, which never comes here). As in `memory_of`, another
    // Python thread may write these bytes while they are read: the values
    // read are then unspecified, never out of bounds.
    let elements =
        unsafe { std::slice::from_raw_parts(data.cast::<T>().offset(lo), (hi - lo + 1) as usize) };
    ArrayView::with_strides(
        wrap(elements),
        shape,
        &strides[..shape.len()],
        (-lo) as usize,
    )
    .ok()
}

/// How an array's elements are stored, or the error numexpr's `getType`
/// raises (as `vexpr.UnsupportedDTypeError`, a `TypeError` naming the dtype).
pub fn format_of(array: &Bound<'_, PyUntypedArray>) -> PyResult<Format> {
    let descr = array.dtype();
    let item = descr.itemsize();
    let storage = match (descr.kind(), item) {
        _ if descr.has_fields() || descr.has_subarray() => None,
        (b'b', 1) => Some(Storage::Bool),
        (b'i', 1) => Some(Storage::Int8),
        (b'i', 2) => Some(Storage::Int16),
        (b'i', 4) => Some(Storage::Int32),
        (b'i', 8) => Some(Storage::Int64),
        (b'u', 1) => Some(Storage::UInt8),
        (b'u', 2) => Some(Storage::UInt16),
        (b'u', 4) => Some(Storage::UInt32),
        (b'u', 8) => Some(Storage::UInt64),
        (b'f', 2) => Some(Storage::Float16),
        (b'f', 4) => Some(Storage::Float32),
        (b'f', 8) => Some(Storage::Float64),
        (b'c', 8) => Some(Storage::Complex64),
        (b'c', 16) => Some(Storage::Complex128),
        (b'S', width) => Some(Storage::Bytes(width)),
        _ => None,
    };
    let Some(storage) = storage else {
        let name = descr.str()?.to_string();
        let hint = if descr.kind() == b'U' {
            " (Unicode strings: encode them to bytes, e.g. `a.astype('S')`)"
        } else {
            ""
        };
        return Err(crate::errors::unsupported_dtype(
            array.py(),
            format!(
                "vexpr does not compute with dtype {name}{hint}; it takes {}",
                vexpr::unstable::SUPPORTED
            ),
        ));
    };
    // '>' on a little-endian machine (or '<' on a big-endian one) is swapped;
    // '=' and '|' (single bytes) are native.
    let swapped = match descr.byteorder() {
        b'>' => cfg!(target_endian = "little"),
        b'<' => cfg!(target_endian = "big"),
        _ => false,
    };
    Ok(Format { storage, swapped })
}

/// The bytes an array's elements occupy, from its lowest to its highest
/// reachable byte, and the byte offset of its first element in them.
pub fn memory_of<'a>(array: &'a Bound<'_, PyUntypedArray>) -> (&'a [u8], usize) {
    let shape = array.shape();
    if shape.contains(&0) {
        return (&[], 0);
    }
    let item = array.dtype().itemsize() as isize;
    let (mut lo, mut hi) = (0isize, item);
    for (&n, &s) in shape.iter().zip(array.strides()) {
        let reach = s * (n as isize - 1);
        if reach < 0 {
            lo += reach;
        } else {
            hi += reach;
        }
    }
    let data = data_ptr(array);
    // SAFETY: NumPy guarantees that every element of a non-empty array lies in
    // memory it owns or borrows, from `data + lo` to `data + hi` (the lowest
    // and highest element plus one item), and keeps it alive while the array
    // is: `array` is borrowed for 'a. Other Python threads may write those
    // bytes while vexpr reads them (with the GIL released), as they may with
    // numexpr; the values read are then unspecified, never out of bounds.
    let start = unsafe { data.offset(lo) };
    // SAFETY: as above, `start..start + (hi - lo)` is the array's memory.
    let bytes = unsafe { std::slice::from_raw_parts(start, (hi - lo) as usize) };
    (bytes, (-lo) as usize)
}

/// The address of an array's first element.
pub fn data_ptr(array: &Bound<'_, PyUntypedArray>) -> *mut u8 {
    // SAFETY: `as_array_ptr` points at the live array object `array` holds.
    unsafe { (*array.as_array_ptr()).fields.data.cast::<u8>() }
}

/// Whether NumPy's `flag` (`npyffi::flags::NPY_ARRAY_*`) is set on `array`.
pub fn has_flag(array: &Bound<'_, PyUntypedArray>, flag: std::ffi::c_int) -> bool {
    // SAFETY: as in `data_ptr`.
    let flags = unsafe { (*array.as_array_ptr()).fields.flags };
    flags & flag == flag
}
