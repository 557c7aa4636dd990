//! Printing arrays the way NumPy's `repr` does, for `vexpr eval` and the REPL.
//!
//! [`format_array`] takes a [`vexpr::Array`] and gives text such as
//! `array([1. , 2.5, 3. ])`, `array([[1, 2],\n       [3, 4]], dtype=int32)` or
//! `array([0.1, 0.2, 0.3, ..., 0.7, 0.8, 0.9], shape=(10000,))`. It follows
//! NumPy 2's default print options: lines of at most 75 characters, arrays of
//! more than 1000 elements summarised to their first and last 3 entries along
//! each long axis, floats with at most 8 fractional digits (switching to
//! scientific notation for very large or small magnitudes), and `shape=` and
//! `dtype=` added when the printed values do not make them evident.
//!
//! The layout mirrors NumPy's `_formatArray`, and the float rules its
//! `FloatingFormat`, so that output can be compared with NumPy's by eye or by
//! diff; the digits come from Rust's shortest round-trip formatting.

use vexpr::{Array, Buffer, Complex64, DType};

/// NumPy's `linewidth`.
const LINE_WIDTH: usize = 75;
/// NumPy's `threshold`: arrays with more elements are summarised.
const THRESHOLD: usize = 1000;
/// NumPy's `edgeitems`: entries kept at each end of a summarised axis.
const EDGE_ITEMS: usize = 3;
/// NumPy's `precision`: most fractional digits of a float.
const PRECISION: usize = 8;
const PREFIX: &str = "array(";

/// Formats `array` like NumPy's `repr`.
///
/// ```text
/// array([1., 2., 3.])       array(5, dtype=int32)      array([], dtype=float64)
/// ```
pub fn format_array(array: &Array) -> String {
    let shape = array.shape();
    let size = array.len();
    let summarize = size > THRESHOLD;
    let body = if size == 0 {
        "[]".to_string()
    } else {
        let layout = Layout::new(shape, summarize);
        let element = element_formatter(array, &layout.shown_indices());
        // The first line's indent stands for "array(" and the opening bracket;
        // the line is one shorter to leave room for the closing parenthesis.
        let indent = " ".repeat(PREFIX.len() + 1);
        layout.recurse(0, 0, &indent, LINE_WIDTH - 1, &*element)
    };

    let mut extras = Vec::new();
    if (size == 0 && shape != [0]) || summarize {
        extras.push(format!("shape={}", crate::npy::shape_text(shape)));
    }
    let implied = matches!(
        array.dtype(),
        DType::Float64 | DType::Int64 | DType::Bool | DType::Complex128
    );
    if !implied || size == 0 {
        extras.push(format!("dtype={}", dtype_repr(array.dtype())));
    }
    if extras.is_empty() {
        return format!("{PREFIX}{body})");
    }
    let text = format!("{PREFIX}{body},");
    let extra = format!("{})", extras.join(", "));
    let last_line = text.len() - text.rfind('\n').map_or(0, |i| i + 1);
    // The extras go on a line of their own when they would overflow the last.
    let spacer = if last_line + extra.len() + 1 > LINE_WIDTH {
        format!("\n{}", " ".repeat(PREFIX.len()))
    } else {
        " ".to_string()
    };
    format!("{text}{spacer}{extra}")
}

/// NumPy's short repr of a dtype: `float32`, `'|S3'`.
fn dtype_repr(dtype: DType) -> String {
    match dtype {
        DType::Bytes(width) => format!("'|S{width}'"),
        other => other.name(),
    }
}

/// Which elements are printed, and where they go.
struct Layout<'a> {
    shape: &'a [usize],
    /// Row-major strides in elements.
    strides: Vec<usize>,
    summarize: bool,
}

/// Formats the element at a row-major flat index.
type ElementFn<'a> = dyn Fn(usize) -> String + 'a;

impl<'a> Layout<'a> {
    fn new(shape: &'a [usize], summarize: bool) -> Self {
        let mut strides = vec![1usize; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1];
        }
        Layout {
            shape,
            strides,
            summarize,
        }
    }

    /// True when `axis` is cut to its edges.
    fn cut(&self, axis: usize) -> bool {
        self.summarize && self.shape[axis] > 2 * EDGE_ITEMS
    }

    /// The flat indices of every printed element: NumPy picks the number
    /// format from these alone, so a summarised array's hidden middle does not
    /// widen the columns.
    fn shown_indices(&self) -> Vec<usize> {
        let mut flat = vec![0usize];
        for (axis, (&n, &stride)) in self.shape.iter().zip(&self.strides).enumerate() {
            let along: Vec<usize> = if self.cut(axis) {
                (0..EDGE_ITEMS).chain(n - EDGE_ITEMS..n).collect()
            } else {
                (0..n).collect()
            };
            flat = flat
                .iter()
                .flat_map(|&base| along.iter().map(move |&i| base + i * stride))
                .collect();
        }
        flat
    }

    /// The text of the sub-array at `offset` from `axis` on (NumPy's
    /// `_formatArray.recurser`): `hanging` is the indent of continuation lines
    /// and `width` the room a line has before its closing brackets.
    fn recurse(
        &self,
        axis: usize,
        offset: usize,
        hanging: &str,
        width: usize,
        element: &ElementFn<'_>,
    ) -> String {
        if axis == self.shape.len() {
            return element(offset);
        }
        let n = self.shape[axis];
        let stride = self.strides[axis];
        let (leading, trailing) = if self.cut(axis) {
            (EDGE_ITEMS, EDGE_ITEMS)
        } else {
            (0, n)
        };
        // Indices printed before and after the "...", the last one apart.
        let before = 0..leading;
        let after = (n - trailing)..(n - 1);
        let next_hanging = format!("{hanging} ");
        let next_width = width.saturating_sub(1);
        let mut text = String::new();

        if axis + 1 == self.shape.len() {
            // The innermost axis: elements separated by ", ", wrapped to the width.
            let room = width.saturating_sub(1);
            let mut line = hanging.to_string();
            let put = |text: &mut String, line: &mut String, item: &str| {
                extend_line(text, line, item, room, hanging);
                line.push_str(", ");
            };
            for i in before {
                put(&mut text, &mut line, &element(offset + i * stride));
            }
            if self.cut(axis) {
                put(&mut text, &mut line, "...");
            }
            for i in after {
                put(&mut text, &mut line, &element(offset + i * stride));
            }
            extend_line(
                &mut text,
                &mut line,
                &element(offset + (n - 1) * stride),
                room,
                hanging,
            );
            text.push_str(&line);
        } else {
            // Outer axes: one sub-array per line, with a blank line per level below.
            let separator = format!(",{}", "\n".repeat(self.shape.len() - axis - 1));
            let nested = |i: usize| {
                self.recurse(
                    axis + 1,
                    offset + i * stride,
                    &next_hanging,
                    next_width,
                    element,
                )
            };
            for i in before {
                text.push_str(&format!("{hanging}{}{separator}", nested(i)));
            }
            if self.cut(axis) {
                text.push_str(&format!("{hanging}...{separator}"));
            }
            for i in after {
                text.push_str(&format!("{hanging}{}{separator}", nested(i)));
            }
            text.push_str(&format!("{hanging}{}", nested(n - 1)));
        }
        // The first line's indent becomes the opening bracket.
        format!("[{}]", &text[hanging.len()..])
    }
}

/// Appends `word` to `line`, first moving `line` into `text` if the word
/// would not fit (unless the line is still empty, where wrapping cannot help).
fn extend_line(text: &mut String, line: &mut String, word: &str, width: usize, hanging: &str) {
    if line.len() + word.len() > width && line.len() > hanging.len() {
        text.push_str(line.trim_end());
        text.push('\n');
        *line = hanging.to_string();
    }
    line.push_str(word);
}

/// A formatter for the array's elements, fitted to the printed ones.
fn element_formatter<'a>(array: &'a Array, shown: &[usize]) -> Box<ElementFn<'a>> {
    let scalar = array.shape().is_empty();
    match array.buffer() {
        Buffer::Bool(v) => {
            // NumPy pads True to the width of False inside arrays.
            let yes = if scalar { "True" } else { " True" };
            Box::new(move |i| if v[i] { yes } else { "False" }.to_string())
        }
        Buffer::Int32(v) => integers(v, shown),
        Buffer::Int64(v) => integers(v, shown),
        Buffer::Float32(v) => {
            let f = FloatFormat::new(shown.iter().map(|&i| v[i]), false);
            Box::new(move |i| f.format(v[i]))
        }
        Buffer::Float64(v) => {
            let f = FloatFormat::new(shown.iter().map(|&i| v[i]), false);
            Box::new(move |i| f.format(v[i]))
        }
        Buffer::Complex128(v) => {
            let re = FloatFormat::new(shown.iter().map(|&i| v[i].re), false);
            let im = FloatFormat::new(shown.iter().map(|&i| v[i].im), true);
            Box::new(move |i| complex(&re, &im, v[i]))
        }
        Buffer::Bytes { data, width } => {
            let width = *width;
            Box::new(move |i| bytes_repr(&data[i * width..(i + 1) * width]))
        }
    }
}

/// Integers right-aligned to the widest printed one.
fn integers<'a, T: Copy + Ord + ToString>(values: &'a [T], shown: &[usize]) -> Box<ElementFn<'a>> {
    let printed = shown.iter().map(|&i| values[i]);
    let width = [printed.clone().max(), printed.min()]
        .into_iter()
        .flatten()
        .map(|x| x.to_string().len())
        .max()
        .unwrap_or(0);
    Box::new(move |i| format!("{:>width$}", values[i].to_string()))
}

/// `re` and `im` side by side, with the `j` before any padding of the imaginary part.
fn complex(re: &FloatFormat, im: &FloatFormat, z: Complex64) -> String {
    let imag = im.format(z.im);
    let digits = imag.trim_end().len();
    format!("{}{}j{}", re.format(z.re), &imag[..digits], &imag[digits..])
}

/// Python's `repr` of a `bytes` value, without NumPy's trailing NULs.
fn bytes_repr(raw: &[u8]) -> String {
    let end = raw.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let raw = &raw[..end];
    // Python quotes with ' unless the text has a ' and no ".
    let quote = if raw.contains(&b'\'') && !raw.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for &b in raw {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if char::from(b) == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..0x7f => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

/// The two float types, for [`FloatFormat`].
trait Float: Copy + std::fmt::Display + std::fmt::LowerExp {
    /// Magnitudes from here up print in scientific notation: NumPy's
    /// `10**min(8, finfo.precision)`, so 1e6 for float32 and 1e8 for float64.
    const EXP_CUTOFF: f64;

    fn wide(self) -> f64;

    /// Positional digits: the shortest that round-trip, cut to
    /// [`PRECISION`] fractional digits, always with a point (`1.`, `0.25`).
    fn positional(self) -> String {
        let shortest = self.to_string();
        let text = match shortest.split_once('.') {
            Some((_, frac)) if frac.len() > PRECISION => trim_zeros(format!("{self:.PRECISION$}")),
            _ => shortest,
        };
        if text.contains('.') {
            text
        } else {
            format!("{text}.")
        }
    }

    /// Scientific digits as (mantissa with a point, exponent): `("1.5", 10)`.
    fn scientific(self) -> (String, i32) {
        let shortest = format!("{self:e}");
        let (mantissa, exponent) = shortest.split_once('e').unwrap_or((&shortest, "0"));
        let mantissa = match mantissa.split_once('.') {
            Some((_, frac)) if frac.len() > PRECISION => {
                let rounded = format!("{self:.PRECISION$e}");
                // Rounding can carry into the exponent (9.999999999e9 → 1.00000000e10).
                let (m, e) = rounded.split_once('e').unwrap_or((&rounded, "0"));
                return (point(trim_zeros(m.to_string())), e.parse().unwrap_or(0));
            }
            _ => mantissa.to_string(),
        };
        (point(mantissa), exponent.parse().unwrap_or(0))
    }
}

impl Float for f32 {
    const EXP_CUTOFF: f64 = 1e6;

    fn wide(self) -> f64 {
        f64::from(self)
    }
}

impl Float for f64 {
    const EXP_CUTOFF: f64 = 1e8;

    fn wide(self) -> f64 {
        self
    }
}

/// Drops trailing zeros after the point, keeping the point.
fn trim_zeros(text: String) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').to_string()
    } else {
        text
    }
}

/// Adds a point to a mantissa that has none.
fn point(mantissa: String) -> String {
    if mantissa.contains('.') {
        mantissa
    } else {
        format!("{mantissa}.")
    }
}

/// NumPy's `FloatingFormat` in its default `maxprec` mode: one layout for all
/// printed values, so that points (or exponents) line up in a column.
struct FloatFormat {
    scientific: bool,
    /// Fractional digits of every mantissa (scientific only).
    precision: usize,
    /// Width of the integer part, sign included.
    pad_left: usize,
    /// Width of the fractional part (with the exponent, in scientific).
    pad_right: usize,
    /// Digits of every exponent.
    exp_digits: usize,
    /// Print `+` on positive values (the imaginary part of complex numbers).
    plus: bool,
}

impl FloatFormat {
    fn new<T: Float>(values: impl Iterator<Item = T> + Clone, plus: bool) -> Self {
        let finite: Vec<T> = values.clone().filter(|x| x.wide().is_finite()).collect();
        let magnitudes = finite.iter().map(|x| x.wide().abs()).filter(|&m| m != 0.0);
        let (min, max) = magnitudes.fold((f64::INFINITY, 0.0f64), |(lo, hi), m| {
            (lo.min(m), hi.max(m))
        });
        let scientific = max > 0.0 && (max >= T::EXP_CUTOFF || min < 1e-4 || max / min > 1e3);
        let sign = |x: T| {
            if plus && !x.wide().is_sign_negative() {
                "+"
            } else {
                ""
            }
        };
        let mut f = FloatFormat {
            scientific,
            precision: 0,
            pad_left: 0,
            pad_right: 0,
            exp_digits: 0,
            plus,
        };
        if scientific {
            for &x in &finite {
                let (mantissa, exponent) = x.scientific();
                let (int, frac) = mantissa.split_once('.').unwrap_or((&mantissa, ""));
                f.pad_left = f.pad_left.max(sign(x).len() + int.len());
                f.precision = f.precision.max(frac.len());
                f.exp_digits = f
                    .exp_digits
                    .max(exponent.unsigned_abs().to_string().len().max(2));
            }
            f.pad_right = f.exp_digits + 2 + f.precision;
        } else {
            for &x in &finite {
                let text = x.positional();
                let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
                f.pad_left = f.pad_left.max(sign(x).len() + int.len());
                f.pad_right = f.pad_right.max(frac.len());
            }
        }
        // Room for "nan", "inf" and "-inf" (or "+inf") in the same column.
        let mut non_finite = values.filter(|x| !x.wide().is_finite()).peekable();
        if non_finite.peek().is_some() {
            let neg_inf = plus || non_finite.any(|x| x.wide() == f64::NEG_INFINITY);
            let offset = f.pad_right + 1;
            let inf_len = 3 + usize::from(neg_inf);
            f.pad_left = f
                .pad_left
                .max(3usize.saturating_sub(offset))
                .max(inf_len.saturating_sub(offset));
        }
        f
    }

    fn format<T: Float>(&self, x: T) -> String {
        let wide = x.wide();
        let sign = if wide.is_sign_negative() {
            "-"
        } else if self.plus {
            "+"
        } else {
            ""
        };
        if !wide.is_finite() {
            let text = if wide.is_nan() {
                format!("{}nan", if self.plus { "+" } else { "" })
            } else {
                format!("{sign}inf")
            };
            return format!("{text:>width$}", width = self.pad_left + self.pad_right + 1);
        }
        let digits = |s: String| s.trim_start_matches('-').to_string();
        if self.scientific {
            // Every mantissa gets `precision` digits; like NumPy's `min_digits`,
            // the extra ones are the value's own digits, not padding zeros.
            let text = format!("{x:.prec$e}", prec = self.precision);
            let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
            let exponent: i32 = exponent.parse().unwrap_or(0);
            let mantissa = digits(point(mantissa.to_string()));
            let (int, frac) = mantissa.split_once('.').unwrap_or((&mantissa, ""));
            let int = format!("{sign}{int}");
            let exp_sign = if exponent < 0 { '-' } else { '+' };
            format!(
                "{int:>left$}.{frac:0<prec$}e{exp_sign}{:0>digits$}",
                exponent.unsigned_abs(),
                left = self.pad_left,
                prec = self.precision,
                digits = self.exp_digits,
            )
        } else {
            let text = digits(x.positional());
            let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
            let int = format!("{sign}{int}");
            format!(
                "{int:>left$}.{frac:<right$}",
                left = self.pad_left,
                right = self.pad_right
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64s(values: &[f64], shape: &[usize]) -> String {
        format_array(&Array::from_vec(values.to_vec(), shape).unwrap())
    }

    // Expected texts are NumPy 2.4's `repr` of the same arrays.
    #[test]
    fn floats_line_up_like_numpy() {
        assert_eq!(f64s(&[1.0, 2.0, 3.0], &[3]), "array([1., 2., 3.])");
        assert_eq!(
            f64s(&[1.5, 2.25, -3.0], &[3]),
            "array([ 1.5 ,  2.25, -3.  ])"
        );
        assert_eq!(
            f64s(&[0.1 + 0.2, 1.0 / 3.0], &[2]),
            "array([0.3       , 0.33333333])"
        );
        assert_eq!(f64s(&[1e-5, 1.5e10], &[2]), "array([1.0e-05, 1.5e+10])");
        assert_eq!(
            f64s(&[f64::NAN, f64::NEG_INFINITY, 1.0], &[3]),
            "array([ nan, -inf,   1.])"
        );
        assert_eq!(f64s(&[3.5], &[]), "array(3.5)");
        assert_eq!(f64s(&[], &[0]), "array([], dtype=float64)");
        assert_eq!(f64s(&[], &[0, 3]), "array([], shape=(0, 3), dtype=float64)");
    }

    #[test]
    fn long_rows_wrap_and_blocks_nest() {
        let values: Vec<f64> = (0..20).map(f64::from).collect();
        assert_eq!(
            f64s(&values, &[20]),
            "array([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12.,\n       13., 14., 15., 16., 17., 18., 19.])"
        );
        let values: Vec<f64> = (0..8).map(f64::from).collect();
        assert_eq!(
            f64s(&values, &[2, 2, 2]),
            "array([[[0., 1.],\n        [2., 3.]],\n\n       [[4., 5.],\n        [6., 7.]]])"
        );
    }

    #[test]
    fn big_arrays_are_summarised_with_their_shape() {
        let a = Array::from_vec((0..10_000i64).collect(), &[10_000]).unwrap();
        assert_eq!(
            format_array(&a),
            "array([   0,    1,    2, ..., 9997, 9998, 9999], shape=(10000,))"
        );
    }

    #[test]
    fn other_types_show_their_dtype() {
        let a = Array::from_vec(vec![true, false], &[2]).unwrap();
        assert_eq!(format_array(&a), "array([ True, False])");
        let a = Array::from_vec(vec![2i32], &[]).unwrap();
        assert_eq!(format_array(&a), "array(2, dtype=int32)");
        let a = Array::from_vec(vec![1.5f32, 2.0], &[2]).unwrap();
        assert_eq!(format_array(&a), "array([1.5, 2. ], dtype=float32)");
        let z = vec![
            Complex64::new(1.0, 2.0),
            Complex64::new(3.0, -1.0),
            Complex64::new(f64::NAN, 0.0),
        ];
        assert_eq!(
            format_array(&Array::from_vec(z, &[3]).unwrap()),
            "array([ 1.+2.j,  3.-1.j, nan+0.j])"
        );
        let s = Buffer::Bytes {
            data: b"a\0\0\0ab\0c".to_vec(),
            width: 4,
        };
        let s = Array::from_buffer(s, &[2]).unwrap();
        assert_eq!(format_array(&s), "array([b'a', b'ab\\x00c'], dtype='|S4')");
    }
}
