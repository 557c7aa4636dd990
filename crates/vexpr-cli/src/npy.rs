//! `.npy` files in and out, for the commands and the REPL.
//!
//! [`read`] takes a path (and [`from_bytes`] a file's bytes) and gives a
//! [`vexpr::Array`] in C order; [`read_dtype`] gives only the element type and
//! shape (from the header); [`write()`] takes an array and writes it with its
//! dtype and shape. The format itself is left to the `npyz` crate; this module
//! maps NumPy's dtypes onto vexpr's and checks what a damaged or hostile file
//! could get wrong before any data is read.
//!
//! vexpr has `bool`, `int32`, `int64`, `float32`, `float64`, `complex128` and
//! `S<n>`. Other numeric files are widened the way NumPy's safe casting would
//! (`int8`, `int16`, `uint8`, `uint16` → `int32`; `uint32` → `int64`;
//! `float16` → `float32`; `complex64` → `complex128`), so no value changes;
//! everything else (`uint64`, `float128`, strings, records, objects, dates) is
//! refused with a message naming the dtype. Fortran-order files are transposed
//! into C order on reading. Every failure is a one-line message, never a panic.

use npyz::{NpyFile, NpyHeader, Order, TypeChar, TypeStr, WriterBuilder};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use vexpr::{Array, Buffer, Complex64, DType, Element, Format, Storage};

/// The dtypes `read` accepts, for messages.
const SUPPORTED: &str = "bool, int32, int64, float32, float64, complex128 and S<n> \
    (int8, int16, uint8, uint16, uint32, float16 and complex64 are widened safely)";

/// How a file's elements are read: as a vexpr type directly, or as a narrower
/// NumPy type that is widened.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    F16,
    F32,
    F64,
    C64,
    C128,
    Bytes(usize),
}

impl Source {
    /// The vexpr type the elements become.
    fn target(self) -> DType {
        match self {
            Source::Bool => DType::Bool,
            Source::I8 | Source::I16 | Source::I32 | Source::U8 | Source::U16 => DType::Int32,
            Source::I64 | Source::U32 => DType::Int64,
            Source::F16 | Source::F32 => DType::Float32,
            Source::F64 => DType::Float64,
            Source::C64 | Source::C128 => DType::Complex128,
            Source::Bytes(width) => DType::Bytes(width),
        }
    }
}

impl Source {
    /// The same elements as the library's [`Storage`], which converts them
    /// as it reads them.
    fn storage(self) -> Storage {
        match self {
            Source::Bool => Storage::Bool,
            Source::I8 => Storage::Int8,
            Source::I16 => Storage::Int16,
            Source::I32 => Storage::Int32,
            Source::I64 => Storage::Int64,
            Source::U8 => Storage::UInt8,
            Source::U16 => Storage::UInt16,
            Source::U32 => Storage::UInt32,
            Source::F16 => Storage::Float16,
            Source::F32 => Storage::Float32,
            Source::F64 => Storage::Float64,
            Source::C64 => Storage::Complex64,
            Source::C128 => Storage::Complex128,
            Source::Bytes(width) => Storage::Bytes(width),
        }
    }
}

/// What a `.npy` header says about the data after it: everything needed to
/// read the elements in place, a run at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// How each element is stored.
    pub format: Format,
    /// The shape.
    pub shape: Vec<usize>,
    /// Elements in Fortran (column-major) order.
    pub fortran: bool,
    /// Bytes of the header, where the data starts.
    pub header_len: usize,
    /// Bytes of data the shape and type call for.
    pub data_len: usize,
    /// NumPy's name of the stored type, for messages: `float64 ('<f8')`.
    pub type_name: String,
}

/// Reads the header at the start of `head` (the first bytes of a file, at
/// least the whole header) with the checks of [`read`]: a damaged or hostile
/// header is an error before anything is allocated for its data.
pub fn layout(head: &[u8]) -> Result<Layout, String> {
    parsed(head).map(|(_, _, layout)| layout)
}

/// The header at the start of `bytes`, checked, with its [`Source`] and
/// [`Layout`].
fn parsed(bytes: &[u8]) -> Result<(NpyHeader, Source, Layout), String> {
    let mut rest = bytes;
    let header = parse_header(&mut rest)?;
    let source = source_of(&header)?;
    let shape = shape_of(&header)?;
    let data_len = data_len(&shape, source_width(&header))?;
    let swapped = match header.dtype() {
        npyz::DType::Plain(ts) => match ts.endianness() {
            npyz::Endianness::Little => cfg!(target_endian = "big"),
            npyz::Endianness::Big => cfg!(target_endian = "little"),
            _ => false,
        },
        _ => false,
    };
    let layout = Layout {
        format: Format {
            storage: source.storage(),
            swapped,
        },
        fortran: header.order() == Order::Fortran && shape.len() > 1,
        shape,
        header_len: bytes.len() - rest.len(),
        data_len,
        type_name: dtype_name(header.dtype().descr().trim_matches('\'')),
    };
    Ok((header, source, layout))
}

/// Bytes of data of `shape` with `width`-byte elements, or an error if that
/// overflows.
fn data_len(shape: &[usize], width: usize) -> Result<usize, String> {
    let len = shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
    len.and_then(|n| n.checked_mul(width))
        .ok_or_else(|| format!("the shape {} is too large", shape_text(shape)))
}

/// Refuses data of `have` bytes where the header calls for
/// `layout.data_len`: a file truncated, or with bytes after its data.
pub fn check_data_len(layout: &Layout, have: u64) -> Result<(), String> {
    let need = layout.data_len;
    if have == need as u64 {
        return Ok(());
    }
    let what = if have < need as u64 {
        "truncated"
    } else {
        "has trailing bytes"
    };
    Err(format!(
        "the file is {what}: shape {} of {} needs {need} data bytes, the file has {have}",
        shape_text(&layout.shape),
        layout.type_name,
    ))
}

/// The bytes of a `.npy` header for an array of `shape` and `dtype` (in
/// native byte order), in C or Fortran order: the data follows it.
pub fn header(shape: &[usize], dtype: DType, fortran: bool) -> std::io::Result<Vec<u8>> {
    let native = if cfg!(target_endian = "little") {
        '<'
    } else {
        '>'
    };
    let type_str = match dtype {
        DType::Bool => "|b1".to_string(),
        DType::Int32 => format!("{native}i4"),
        DType::Int64 => format!("{native}i8"),
        DType::Float32 => format!("{native}f4"),
        DType::Float64 => format!("{native}f8"),
        DType::Complex128 => format!("{native}c16"),
        DType::Bytes(width) => format!("|S{width}"),
    };
    let type_str: TypeStr = type_str.parse().map_err(std::io::Error::other)?;
    let shape: Vec<u64> = shape.iter().map(|&n| n as u64).collect();
    let mut out = Vec::new();
    npyz::WriteOptions::new_header_only()
        .dtype(npyz::DType::Plain(type_str))
        .shape(&shape)
        .order(if fortran { Order::Fortran } else { Order::C })
        .writer(&mut out)
        .write_header_only()?;
    Ok(out)
}

/// The header of a file, checked against the data that follows it.
struct Checked<'a> {
    header: NpyHeader,
    source: Source,
    shape: Vec<usize>,
    /// The data bytes (exactly as many as the header describes).
    data: &'a [u8],
}

/// Reads a whole `.npy` file into an array in C order.
pub fn read(path: &Path) -> Result<Array, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads the bytes of a whole `.npy` file into an array in C order, as [`read`]
/// does with a file's contents (its messages lack the path).
pub fn from_bytes(bytes: &[u8]) -> Result<Array, String> {
    decode(check(bytes)?)
}

/// The element type and shape a file would be read as, from its header alone
/// (for `vexpr dis`, which needs types but no data).
pub fn read_dtype(path: &Path) -> Result<(DType, Vec<usize>), String> {
    let mut head = Vec::new();
    // A header is at most a few kilobytes (NumPy caps it at 64 KiB for format
    // 1.0 and writes small ones for 2.0/3.0); 1 MiB leaves room for odd writers.
    File::open(path)
        .and_then(|f| f.take(1 << 20).read_to_end(&mut head))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let header = parse_header(&mut &head[..]).map_err(|e| format!("{}: {e}", path.display()))?;
    let source = source_of(&header).map_err(|e| format!("{}: {e}", path.display()))?;
    let shape = shape_of(&header).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((source.target(), shape))
}

/// Parses the header, turning a panic inside the parser into an error.
///
/// npyz multiplies the shape's dimensions without checking for overflow, so a
/// header such as `'shape': (2**40, 2**40)` panics there in builds with
/// overflow checks. The hook is silenced meanwhile so that such a file gives
/// one clean message rather than a panic report followed by the message.
fn parse_header(reader: &mut &[u8]) -> Result<NpyHeader, String> {
    check_header_len(reader)?;
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        NpyHeader::from_reader(&mut *reader)
    }));
    std::panic::set_hook(previous);
    match parsed {
        Ok(Ok(header)) => Ok(header),
        Ok(Err(e)) => Err(format!("not a valid .npy file ({e})")),
        Err(_) => Err("not a valid .npy file (its shape is too large)".to_string()),
    }
}

/// Refuses a header whose declared length is longer than the bytes that
/// follow it, before npyz allocates a buffer of the declared length (up to
/// 4 GiB for a format 2.0 file of a dozen bytes), and a header whose brackets
/// nest so deeply that npyz's parser would take minutes.
///
/// The prefix is NumPy's: the magic `\x93NUMPY`, a major and a minor version
/// byte, then the header length, two bytes little-endian in version 1 and
/// four in versions 2 and 3. Anything else is left to npyz to refuse.
fn check_header_len(bytes: &[u8]) -> Result<(), String> {
    let Some(rest) = bytes.strip_prefix(b"\x93NUMPY") else {
        return Ok(());
    };
    let (declared, after) = match rest {
        [1, _, a, b, after @ ..] => (u64::from(u16::from_le_bytes([*a, *b])), after),
        [2 | 3, _, a, b, c, d, after @ ..] => {
            (u64::from(u32::from_le_bytes([*a, *b, *c, *d])), after)
        }
        _ => return Ok(()),
    };
    if declared > after.len() as u64 {
        return Err(format!(
            "not a valid .npy file (its header claims {declared} bytes, {} follow)",
            after.len()
        ));
    }
    // npyz's parser of the header's Python literal backtracks: its time
    // doubles with each level of brackets (22 levels took over 30 s), and
    // brackets that never close or close the wrong kind make it try every
    // way to read them (a 221-byte header nesting 7 deep, its `{` closed by
    // `]`, took 12 s). A header is one Python literal: its brackets balance
    // and match outside quoted strings. The headers vexpr reads nest two
    // levels deep (`{'shape': (3, 4)}`); even NumPy's record dtypes, which
    // vexpr refuses anyway, rarely pass five.
    let header = &after[..declared as usize];
    let invalid = |why: &str| Err(format!("not a valid .npy file (its header {why})"));
    let mut open: Vec<u8> = Vec::new();
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for &byte in header {
        if let Some(q) = quote {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                _ if byte == q => quote = None,
                _ => {}
            }
            continue;
        }
        match byte {
            b'\'' | b'"' => quote = Some(byte),
            b'(' => open.push(b')'),
            b'[' => open.push(b']'),
            b'{' => open.push(b'}'),
            b')' | b']' | b'}' if open.pop() != Some(byte) => {
                return invalid("has brackets that do not match");
            }
            _ => {}
        }
        if open.len() > MAX_HEADER_NESTING {
            return invalid(&format!(
                "nests brackets more than {MAX_HEADER_NESTING} deep"
            ));
        }
    }
    if !open.is_empty() || quote.is_some() {
        return invalid("has an unclosed bracket or string");
    }
    Ok(())
}

/// The deepest bracket nesting accepted in a header (see [`check_header_len`]).
const MAX_HEADER_NESTING: usize = 8;

/// Parses the header and checks the type, the shape and the data length.
fn check(bytes: &[u8]) -> Result<Checked<'_>, String> {
    let (header, source, layout) = parsed(bytes)?;
    let data = &bytes[layout.header_len..];
    check_data_len(&layout, data.len() as u64)?;
    Ok(Checked {
        header,
        source,
        shape: layout.shape,
        data,
    })
}

/// Bytes per element in the file.
fn source_width(header: &NpyHeader) -> usize {
    header.dtype().num_bytes().unwrap_or(0)
}

/// The shape as `usize`s.
fn shape_of(header: &NpyHeader) -> Result<Vec<usize>, String> {
    header
        .shape()
        .iter()
        .map(|&n| usize::try_from(n).map_err(|_| format!("dimension {n} is too large")))
        .collect()
}

/// Maps the file's dtype onto a [`Source`], or says why it cannot be read.
fn source_of(header: &NpyHeader) -> Result<Source, String> {
    let dtype = header.dtype();
    let npyz::DType::Plain(ts) = &dtype else {
        return Err(format!(
            "structured or sub-array dtype {} is not supported; vexpr reads {SUPPORTED}",
            dtype.descr()
        ));
    };
    let size = ts.size_field();
    let source = match (ts.type_char(), size) {
        (TypeChar::Bool, 1) => Source::Bool,
        (TypeChar::Int, 1) => Source::I8,
        (TypeChar::Int, 2) => Source::I16,
        (TypeChar::Int, 4) => Source::I32,
        (TypeChar::Int, 8) => Source::I64,
        (TypeChar::Uint, 1) => Source::U8,
        (TypeChar::Uint, 2) => Source::U16,
        (TypeChar::Uint, 4) => Source::U32,
        (TypeChar::Float, 2) => Source::F16,
        (TypeChar::Float, 4) => Source::F32,
        (TypeChar::Float, 8) => Source::F64,
        (TypeChar::Complex, 8) => Source::C64,
        (TypeChar::Complex, 16) => Source::C128,
        // NumPy cannot make an `S0` array; a file claiming one is refused.
        (TypeChar::ByteStr, width) if width > 0 => Source::Bytes(
            usize::try_from(width).map_err(|_| format!("string width {width} is too large"))?,
        ),
        _ => {
            let name = dtype_name(&ts.to_string());
            let hint = match (ts.type_char(), size) {
                (TypeChar::Uint, 8) => {
                    " (uint64 has no safe cast to int64; convert it to int64 or float64 first)"
                }
                (TypeChar::UnicodeStr, _) => " (convert text to bytes with .astype('S') first)",
                _ => "",
            };
            return Err(format!(
                "dtype {name} is not supported{hint}; vexpr reads {SUPPORTED}"
            ));
        }
    };
    Ok(source)
}

/// NumPy's name for a type string, with the string itself: `uint64 ('<u8')`.
fn dtype_name(type_str: &str) -> String {
    let Ok(ts) = type_str.parse::<TypeStr>() else {
        return format!("'{type_str}'");
    };
    let bits = ts.size_field().saturating_mul(8);
    let name = match ts.type_char() {
        TypeChar::Bool => "bool".to_string(),
        TypeChar::Int => format!("int{bits}"),
        TypeChar::Uint => format!("uint{bits}"),
        TypeChar::Float => format!("float{bits}"),
        TypeChar::Complex => format!("complex{bits}"),
        TypeChar::TimeDelta => "timedelta64".to_string(),
        TypeChar::DateTime => "datetime64".to_string(),
        TypeChar::ByteStr => format!("S{}", ts.size_field()),
        TypeChar::UnicodeStr => format!("str (U{})", ts.size_field()),
        TypeChar::Object => "object".to_string(),
        TypeChar::RawData => format!("void (V{})", ts.size_field()),
        _ => return format!("'{type_str}'"),
    };
    format!("{name} ('{type_str}')")
}

/// Python's spelling of a shape: `(3,)`, `(2, 3)`, `()`.
pub fn shape_text(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// Reads the checked data into an array, widening and reordering as needed.
fn decode(checked: Checked<'_>) -> Result<Array, String> {
    let Checked {
        header,
        source,
        shape,
        data,
    } = checked;
    let fortran = header.order() == Order::Fortran && shape.len() > 1;
    let file = NpyFile::with_header(header, data);
    let bad = |e: std::io::Error| format!("not a valid .npy file ({e})");
    // Elements come in file order; Fortran files are put in C order after.
    fn finish<T: Element>(values: Vec<T>, shape: &[usize], fortran: bool) -> Result<Array, String> {
        let values = if fortran {
            fortran_to_c(&values, shape)
        } else {
            values
        };
        Array::from_vec(values, shape).map_err(|e| e.to_string())
    }
    match source {
        Source::Bool => finish(file.into_vec::<bool>().map_err(bad)?, &shape, fortran),
        Source::I8 => finish(
            widen(file.into_vec::<i8>().map_err(bad)?, i32::from),
            &shape,
            fortran,
        ),
        Source::I16 => finish(
            widen(file.into_vec::<i16>().map_err(bad)?, i32::from),
            &shape,
            fortran,
        ),
        Source::U8 => finish(
            widen(file.into_vec::<u8>().map_err(bad)?, i32::from),
            &shape,
            fortran,
        ),
        Source::U16 => finish(
            widen(file.into_vec::<u16>().map_err(bad)?, i32::from),
            &shape,
            fortran,
        ),
        Source::I32 => finish(file.into_vec::<i32>().map_err(bad)?, &shape, fortran),
        Source::U32 => finish(
            widen(file.into_vec::<u32>().map_err(bad)?, i64::from),
            &shape,
            fortran,
        ),
        Source::I64 => finish(file.into_vec::<i64>().map_err(bad)?, &shape, fortran),
        Source::F16 => finish(
            widen(file.into_vec::<npyz::half::f16>().map_err(bad)?, f32::from),
            &shape,
            fortran,
        ),
        Source::F32 => finish(file.into_vec::<f32>().map_err(bad)?, &shape, fortran),
        Source::F64 => finish(file.into_vec::<f64>().map_err(bad)?, &shape, fortran),
        Source::C64 => {
            let values = file
                .into_vec::<npyz::num_complex::Complex32>()
                .map_err(bad)?;
            let wide = widen(values, |c| Complex64::new(f64::from(c.re), f64::from(c.im)));
            finish(wide, &shape, fortran)
        }
        Source::C128 => finish(file.into_vec::<Complex64>().map_err(bad)?, &shape, fortran),
        Source::Bytes(width) => {
            // npyz gives each string without its trailing NULs; pad them back.
            let strings = file.into_vec::<Vec<u8>>().map_err(bad)?;
            let strings = if fortran {
                fortran_to_c(&strings, &shape)
            } else {
                strings
            };
            let mut flat = Vec::with_capacity(strings.len() * width);
            for s in &strings {
                flat.extend_from_slice(s);
                flat.resize(flat.len() + width - s.len(), 0);
            }
            Array::from_buffer(Buffer::Bytes { data: flat, width }, &shape)
                .map_err(|e| e.to_string())
        }
    }
}

/// Converts every element with a lossless widening.
fn widen<S: Copy, T>(values: Vec<S>, f: impl Fn(S) -> T) -> Vec<T> {
    values.into_iter().map(f).collect()
}

/// Reorders elements stored column-major (first index fastest) into row-major.
fn fortran_to_c<T: Clone>(values: &[T], shape: &[usize]) -> Vec<T> {
    // Column-major strides: the first dimension moves by one element.
    let mut f_strides = Vec::with_capacity(shape.len());
    let mut step = 1usize;
    for &n in shape {
        f_strides.push(step);
        step *= n;
    }
    let mut out = Vec::with_capacity(values.len());
    let mut index = vec![0usize; shape.len()];
    for _ in 0..values.len() {
        let at: usize = index.iter().zip(&f_strides).map(|(i, s)| i * s).sum();
        out.push(values[at].clone());
        // Advance the row-major multi-index: last dimension fastest.
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

/// Writes `array` to `path` as a C-order `.npy` file with its dtype and shape.
pub fn write(path: &Path, array: &Array) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let file = File::create(path).map_err(fail)?;
    let mut out = BufWriter::new(file);
    let shape: Vec<u64> = array.shape().iter().map(|&n| n as u64).collect();
    match array.buffer() {
        Buffer::Bool(v) => write_values(&mut out, &shape, v),
        Buffer::Int32(v) => write_values(&mut out, &shape, v),
        Buffer::Int64(v) => write_values(&mut out, &shape, v),
        Buffer::Float32(v) => write_values(&mut out, &shape, v),
        Buffer::Float64(v) => write_values(&mut out, &shape, v),
        Buffer::Complex128(v) => write_values(&mut out, &shape, v),
        Buffer::Bytes { data, width } => write_strings(&mut out, &shape, data, *width),
    }
    .and_then(|()| out.flush())
    .map_err(fail)
}

/// Writes numbers with the dtype npyz picks for their Rust type.
fn write_values<T>(out: &mut impl Write, shape: &[u64], values: &[T]) -> std::io::Result<()>
where
    T: npyz::AutoSerialize + Copy,
{
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(out)
        .begin_nd()?;
    writer.extend(values.iter().copied())?;
    writer.finish()
}

/// Writes fixed-width byte strings as `|S<width>`.
fn write_strings(
    out: &mut impl Write,
    shape: &[u64],
    data: &[u8],
    width: usize,
) -> std::io::Result<()> {
    let type_str: TypeStr = format!("|S{width}")
        .parse()
        .map_err(std::io::Error::other)?;
    let len: usize = shape.iter().map(|&n| n as usize).product();
    let mut writer = npyz::WriteOptions::<[u8]>::new()
        .dtype(npyz::DType::Plain(type_str))
        .shape(shape)
        .writer(out)
        .begin_nd()?;
    // By index rather than `chunks`, which cannot take a width of zero.
    for i in 0..len {
        writer.push(&data[i * width..(i + 1) * width])?;
    }
    writer.finish()
}
