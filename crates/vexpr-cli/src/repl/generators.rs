//! Data generators: the right-hand sides `linspace(0, 1, 1_000_000)`,
//! `random(1e6)`, `arange(10)`, `zeros((3, 4))`, `ones(5)`, `full(5, 2.5)` and
//! `load("x.npy")`.
//!
//! They are not vexpr functions (an expression maps arrays to an array of the
//! same shape; a generator makes an array out of nothing), so they are parsed
//! here: a generator call stands alone on the right of `=`, and its arguments
//! are literals. Tokens come from vexpr's own lexer and each literal is decoded
//! by vexpr's parser, so numbers are spelled exactly as in expressions, which
//! is Python's spelling (`1e6`, `1_000_000`, `0x10`, `-2.5`). Shapes are a
//! number or a tuple of numbers, as in NumPy; a size may be written as a float
//! when it is a whole number, so that `random(1e6)` works.
//!
//! [`parse`] checks a call completely (every argument's type and range, with a
//! span for the caret) and gives a [`Plan`]; [`Plan::run`] then only allocates
//! and fills, so it can run on the worker thread that Ctrl-C abandons.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::path::PathBuf;
use vexpr::unstable::{ExprKind, Lexer, Literal, Token};
use vexpr::{Array, Complex64, DType, Error, ErrorKind, Span};

/// The generator names, which variables may not take.
pub const NAMES: [&str; 7] = [
    "linspace", "random", "arange", "zeros", "ones", "full", "load",
];

/// The message for a line that ends inside the call.
const UNCLOSED: &str = "unexpected end of line: the call is not closed";

/// `linspace`'s number of points when none is given (NumPy's default).
const LINSPACE_DEFAULT_NUM: usize = 50;

/// A checked generator call, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// `num` evenly spaced float64 values from `start` to `stop`, both included.
    Linspace {
        /// First value.
        start: f64,
        /// Last value.
        stop: f64,
        /// Number of values.
        num: usize,
    },
    /// Uniform float64 values in [0, 1).
    Random {
        /// Shape of the result.
        shape: Vec<usize>,
        /// The seed given in the call; `None` lets the session choose (see
        /// [`Plan::with_seed`]).
        seed: Option<u64>,
    },
    /// `start, start + step, ...` up to but excluding `stop`.
    Arange {
        /// First value.
        start: Num,
        /// Difference between neighbours.
        step: Num,
        /// Number of values.
        len: usize,
        /// Element type.
        dtype: DType,
    },
    /// One value everywhere (`zeros`, `ones`, `full`).
    Fill {
        /// Shape of the result.
        shape: Vec<usize>,
        /// The value.
        value: Num,
        /// Element type.
        dtype: DType,
    },
    /// An array read from a `.npy` file.
    Load {
        /// The file.
        path: PathBuf,
    },
}

/// A number argument: integers stay exact until the element type is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
}

impl Num {
    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// Recognises a generator call in `text`, which starts at byte `at` of the
/// line (spans in errors are positions in the line).
///
/// Returns `None` when `text` does not begin with a generator name and `(`: it
/// is then an ordinary expression. Otherwise the call must be well formed and
/// stand alone.
pub fn parse(text: &str, at: usize) -> Option<Result<Plan, Error>> {
    let mut lexer = Lexer::new(text);
    let name = match lexer.next() {
        Some(Ok((s, Token::Name(name), e))) => NAMES
            .iter()
            .find(|&&n| n == name)
            .map(|&n| (n, shift(Span::new(s, e), at)))?,
        _ => return None,
    };
    let Some(Ok((_, Token::LParen, _))) = lexer.next() else {
        return None;
    };
    Some(
        Parser::new(text, at)
            .and_then(|mut p| p.call(name.0, name.1))
            .and_then(|call| plan(&call)),
    )
}

impl Plan {
    /// Fills in the seed of a `random` call that gave none.
    pub fn with_seed(self, seed: u64) -> Plan {
        match self {
            Plan::Random { shape, seed: None } => Plan::Random {
                shape,
                seed: Some(seed),
            },
            other => other,
        }
    }

    /// Makes the array. Fails only when memory or the file system does.
    pub fn run(self) -> Result<Array, String> {
        match self {
            Plan::Linspace { start, stop, num } => {
                // NumPy's formula, so that the values agree to the last bit:
                // `i * step + start`, with the end point set exactly.
                let step = if num > 1 {
                    (stop - start) / (num - 1) as f64
                } else {
                    0.0
                };
                let mut v = filled(num, |i| i as f64 * step + start)?;
                if num > 1 {
                    v[num - 1] = stop;
                }
                array(v, &[num])
            }
            Plan::Random { shape, seed } => {
                let mut rng = StdRng::seed_from_u64(seed.unwrap_or(0));
                let v = filled(shape.iter().product(), |_| rng.random::<f64>())?;
                array(v, &shape)
            }
            Plan::Arange {
                start,
                step,
                len,
                dtype,
            } => {
                let value = |i: usize| match (start, step) {
                    // Integer steps stay exact (`parse` checked the range).
                    (Num::Int(a), Num::Int(d)) => Num::Int(a + i as i64 * d),
                    _ => Num::Float(start.as_f64() + i as f64 * step.as_f64()),
                };
                typed(dtype, &[len], value)
            }
            Plan::Fill {
                shape,
                value,
                dtype,
            } => typed(dtype, &shape, |_| value),
            Plan::Load { path } => crate::npy::read(&path),
        }
    }
}

/// A vector of `len` values, refusing (rather than aborting on) a size the
/// memory cannot hold.
fn filled<T>(len: usize, mut f: impl FnMut(usize) -> T) -> Result<Vec<T>, String> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        format!(
            "cannot allocate {} for {len} elements",
            crate::repl::session::human_bytes(len.saturating_mul(std::mem::size_of::<T>()))
        )
    })?;
    v.extend((0..len).map(&mut f));
    Ok(v)
}

fn array<T: vexpr::Element>(v: Vec<T>, shape: &[usize]) -> Result<Array, String> {
    Array::from_vec(v, shape).map_err(|e| e.to_string())
}

/// An array of `dtype` whose element `i` is `value(i)`, converted as NumPy's
/// `astype` would for these small cases (bool is "non-zero").
fn typed(dtype: DType, shape: &[usize], value: impl Fn(usize) -> Num) -> Result<Array, String> {
    let len = shape.iter().product();
    let f = |i| value(i).as_f64();
    let int = |i| match value(i) {
        Num::Int(v) => v,
        Num::Float(v) => v as i64,
    };
    match dtype {
        DType::Bool => array(filled(len, |i| f(i) != 0.0)?, shape),
        DType::Int32 => array(filled(len, |i| int(i) as i32)?, shape),
        DType::Int64 => array(filled(len, int)?, shape),
        DType::Float32 => array(filled(len, |i| f(i) as f32)?, shape),
        DType::Float64 => array(filled(len, f)?, shape),
        DType::Complex128 => array(filled(len, |i| Complex64::new(f(i), 0.0))?, shape),
        DType::Bytes(_) => Err("byte strings cannot be generated".to_string()),
    }
}

/// A literal argument as written.
#[derive(Debug, Clone)]
enum Value {
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<Arg>),
}

#[derive(Debug, Clone)]
struct Arg {
    value: Value,
    span: Span,
}

/// A parsed call: `name(positional..., keyword=value...)`.
struct Call {
    name: &'static str,
    name_span: Span,
    /// From the name to the closing parenthesis.
    span: Span,
    positional: Vec<Arg>,
    keywords: Vec<(String, Span, Arg)>,
}

/// A recursive-descent parser over vexpr's tokens.
struct Parser<'t> {
    text: &'t str,
    at: usize,
    tokens: Vec<(Span, Token<'t>)>,
    pos: usize,
}

fn shift(span: Span, at: usize) -> Span {
    Span::new(span.start + at, span.end + at)
}

fn syntax(span: Span, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Syntax, span, message)
}

impl<'t> Parser<'t> {
    fn new(text: &'t str, at: usize) -> Result<Self, Error> {
        let mut tokens = Vec::new();
        for token in Lexer::new(text) {
            match token {
                Ok((s, t, e)) => tokens.push((shift(Span::new(s, e), at), t)),
                Err(err) => {
                    return Err(Error::new(err.kind(), shift(err.span(), at), err.message()));
                }
            }
        }
        // The caller has seen the name and `(`.
        Ok(Parser {
            text,
            at,
            tokens,
            pos: 2,
        })
    }

    fn peek(&self) -> Option<Token<'t>> {
        self.tokens.get(self.pos).map(|t| t.1)
    }

    /// The span of the next token, or the end of the text.
    fn here(&self) -> Span {
        self.tokens.get(self.pos).map_or_else(
            || Span::new(self.at + self.text.len(), self.at + self.text.len()),
            |t| t.0,
        )
    }

    fn call(&mut self, name: &'static str, name_span: Span) -> Result<Call, Error> {
        let mut call = Call {
            name,
            name_span,
            span: name_span,
            positional: Vec::new(),
            keywords: Vec::new(),
        };
        loop {
            if self.peek() == Some(Token::RParen) {
                break;
            }
            let keyword = match (self.peek(), self.tokens.get(self.pos + 1).map(|t| t.1)) {
                (Some(Token::Name(k)), Some(Token::Assign)) => {
                    let span = self.here();
                    self.pos += 2;
                    Some((k.to_string(), span))
                }
                _ => None,
            };
            let arg = self.value()?;
            match keyword {
                Some((k, span)) => call.keywords.push((k, span, arg)),
                None if !call.keywords.is_empty() => {
                    return Err(syntax(
                        arg.span,
                        "a positional argument cannot follow a keyword argument",
                    ));
                }
                None => call.positional.push(arg),
            }
            match self.peek() {
                Some(Token::Comma) => self.pos += 1,
                Some(Token::RParen) => {}
                None => return Err(syntax(self.here(), UNCLOSED)),
                _ => {
                    return Err(syntax(
                        self.here(),
                        format!("expected `,` or `)` in the arguments of `{name}`"),
                    ));
                }
            }
        }
        call.span = name_span.to(self.here());
        self.pos += 1;
        if self.pos < self.tokens.len() {
            let rest = self.here().to(self.tokens[self.tokens.len() - 1].0);
            return Err(syntax(
                rest,
                format!(
                    "`{name}(...)` must stand alone on the right of `=`: assign it to a name, then use the name"
                ),
            ));
        }
        Ok(call)
    }

    /// A number (with any signs), a string, or a tuple.
    fn value(&mut self) -> Result<Arg, Error> {
        let start = self.here();
        match self.peek() {
            Some(Token::Minus | Token::Plus) => {
                let negative = self.peek() == Some(Token::Minus);
                self.pos += 1;
                let inner = self.value()?;
                let span = start.to(inner.span);
                let value = match (inner.value, negative) {
                    (v @ (Value::Int(_) | Value::Float(_)), false) => v,
                    (Value::Int(i), true) => Value::Int(i.checked_neg().ok_or_else(|| {
                        Error::new(ErrorKind::Literal, span, "integer literal is too large")
                    })?),
                    (Value::Float(f), true) => Value::Float(-f),
                    _ => return Err(syntax(span, "a sign applies only to a number")),
                };
                Ok(Arg { value, span })
            }
            Some(Token::Int(_) | Token::Float(_) | Token::Str(_) | Token::Imag(_)) => {
                self.pos += 1;
                self.literal(start)
            }
            Some(Token::LParen) => {
                self.pos += 1;
                let mut items = Vec::new();
                let mut trailing_comma = false;
                while self.peek() != Some(Token::RParen) {
                    items.push(self.value()?);
                    trailing_comma = false;
                    match self.peek() {
                        Some(Token::Comma) => {
                            self.pos += 1;
                            trailing_comma = true;
                        }
                        Some(Token::RParen) => {}
                        None => return Err(syntax(self.here(), UNCLOSED)),
                        _ => return Err(syntax(self.here(), "expected `,` or `)` in a tuple")),
                    }
                }
                let span = start.to(self.here());
                self.pos += 1;
                // `(5)` is 5, as in Python; `(5,)` and `()` are tuples.
                if items.len() == 1 && !trailing_comma {
                    // Just checked: one item.
                    let mut only = items.pop().expect("one item");
                    only.span = span;
                    return Ok(only);
                }
                Ok(Arg {
                    value: Value::Tuple(items),
                    span,
                })
            }
            Some(Token::Name(n)) => Err(syntax(
                start,
                format!(
                    "`{n}`: the arguments of a generator are literals, not names or expressions"
                ),
            )),
            None => Err(syntax(start, UNCLOSED)),
            Some(_) => Err(syntax(start, "expected a number, a string or a tuple")),
        }
    }

    /// Decodes the literal token before `self.pos` with vexpr's own parser.
    fn literal(&self, span: Span) -> Result<Arg, Error> {
        let text = &self.text[span.start - self.at..span.end - self.at];
        let ast =
            vexpr::unstable::parse(text).map_err(|e| Error::new(e.kind(), span, e.message()))?;
        let value = match &ast.kind {
            ExprKind::Literal(Literal::Int(i)) => Value::Int(i64::try_from(*i).map_err(|_| {
                Error::new(ErrorKind::Literal, span, "integer literal is too large")
            })?),
            ExprKind::Literal(Literal::Float(f)) => Value::Float(*f),
            ExprKind::Literal(Literal::Bytes(b)) => {
                Value::Str(String::from_utf8_lossy(b).into_owned())
            }
            _ => return Err(syntax(span, "complex numbers are not accepted here")),
        };
        Ok(Arg { value, span })
    }
}

/// Matches a call's arguments to parameter names as Python does: positional
/// first, then keywords; the first `required` must be given.
fn bind<'c>(
    call: &'c Call,
    params: &[&str],
    required: usize,
) -> Result<Vec<Option<&'c Arg>>, Error> {
    let mut bound: Vec<Option<&Arg>> = vec![None; params.len()];
    if call.positional.len() > params.len() {
        let extra = &call.positional[params.len()];
        return Err(Error::new(
            ErrorKind::Arity,
            extra.span,
            format!(
                "`{}` takes at most {} arguments ({})",
                call.name,
                params.len(),
                params.join(", ")
            ),
        ));
    }
    for (slot, arg) in bound.iter_mut().zip(&call.positional) {
        *slot = Some(arg);
    }
    for (name, span, arg) in &call.keywords {
        let Some(i) = params.iter().position(|p| p == name) else {
            return Err(Error::new(
                ErrorKind::Arity,
                *span,
                format!(
                    "`{}` has no parameter `{name}` (it has {})",
                    call.name,
                    params.join(", ")
                ),
            ));
        };
        if bound[i].is_some() {
            return Err(Error::new(
                ErrorKind::Arity,
                *span,
                format!("`{name}` is given twice"),
            ));
        }
        bound[i] = Some(arg);
    }
    if let Some(missing) = (0..required).find(|&i| bound[i].is_none()) {
        return Err(Error::new(
            ErrorKind::Arity,
            call.span,
            format!(
                "`{}` needs the argument `{}` ({}({}))",
                call.name,
                params[missing],
                call.name,
                params.join(", ")
            ),
        ));
    }
    Ok(bound)
}

fn number(arg: &Arg, what: &str) -> Result<Num, Error> {
    match arg.value {
        Value::Int(i) => Ok(Num::Int(i)),
        Value::Float(f) => Ok(Num::Float(f)),
        _ => Err(Error::new(
            ErrorKind::Type,
            arg.span,
            format!("`{what}` must be a number"),
        )),
    }
}

/// A count: a non-negative whole number, written as an integer or a float.
fn size(arg: &Arg, what: &str) -> Result<usize, Error> {
    let bad = || {
        Error::new(
            ErrorKind::Type,
            arg.span,
            format!("`{what}` must be a whole number of 0 or more"),
        )
    };
    match arg.value {
        Value::Int(i) => usize::try_from(i).map_err(|_| bad()),
        // Whole floats below 2**53 are exact, so `1e6` is exactly a million.
        Value::Float(f) if f >= 0.0 && f.fract() == 0.0 && f < 9_007_199_254_740_992.0 => {
            Ok(f as usize)
        }
        _ => Err(bad()),
    }
}

/// A shape: a size or a tuple of sizes, with a total that memory could hold.
fn shape(arg: &Arg, itemsize: usize) -> Result<Vec<usize>, Error> {
    let dims = match &arg.value {
        Value::Tuple(items) => items
            .iter()
            .map(|a| size(a, "shape"))
            .collect::<Result<Vec<_>, _>>()?,
        _ => vec![size(arg, "shape")?],
    };
    let total = dims.iter().try_fold(itemsize, |acc, &n| acc.checked_mul(n));
    match total {
        Some(bytes) if bytes <= isize::MAX as usize => Ok(dims),
        _ => Err(Error::new(
            ErrorKind::Shape,
            arg.span,
            "this shape has too many elements to allocate",
        )),
    }
}

fn dtype(arg: Option<&Arg>) -> Result<Option<DType>, Error> {
    let Some(arg) = arg else { return Ok(None) };
    let unknown = || {
        Error::new(
            ErrorKind::Type,
            arg.span,
            "`dtype` must be one of \"bool\", \"int32\", \"int64\", \"float32\", \"float64\", \"complex128\"",
        )
    };
    match &arg.value {
        Value::Str(name) => match DType::parse(name) {
            Some(DType::Bytes(_)) | None => Err(unknown()),
            Some(t) => Ok(Some(t)),
        },
        _ => Err(unknown()),
    }
}

fn plan(call: &Call) -> Result<Plan, Error> {
    // `bind(call, names, required)` refuses a call that lacks any of its
    // first `required` arguments, so `a[k].expect("required")` for those k
    // cannot fire.
    match call.name {
        "linspace" => {
            let a = bind(call, &["start", "stop", "num"], 2)?;
            let start = number(a[0].expect("required"), "start")?.as_f64();
            let stop = number(a[1].expect("required"), "stop")?.as_f64();
            let num = a[2].map_or(Ok(LINSPACE_DEFAULT_NUM), |n| size(n, "num"))?;
            if let Some(n) = a[2] {
                shape(n, 8)?;
            }
            Ok(Plan::Linspace { start, stop, num })
        }
        "random" => {
            let a = bind(call, &["shape", "seed"], 1)?;
            let shape = shape(a[0].expect("required"), 8)?;
            let seed = a[1]
                .map(|s| size(s, "seed").map(|s| s as u64))
                .transpose()?;
            Ok(Plan::Random { shape, seed })
        }
        "arange" => {
            let a = bind(call, &["start", "stop", "step", "dtype"], 1)?;
            // `arange(stop)` counts from 0, as in NumPy.
            let (start, stop) = match a[1] {
                None => (Num::Int(0), number(a[0].expect("required"), "stop")?),
                Some(stop) => (
                    number(a[0].expect("required"), "start")?,
                    number(stop, "stop")?,
                ),
            };
            let step = a[2].map_or(Ok(Num::Int(1)), |s| number(s, "step"))?;
            let step_span = a[2].map_or(call.span, |s| s.span);
            if step.as_f64() == 0.0 {
                return Err(Error::new(
                    ErrorKind::Input,
                    step_span,
                    "`step` must not be zero",
                ));
            }
            let len = match (start, stop, step) {
                (Num::Int(a), Num::Int(b), Num::Int(d)) => {
                    let (a, b, d) = (i128::from(a), i128::from(b), i128::from(d));
                    // ceil((b - a) / d), never negative
                    let n = (b - a + d - d.signum()) / d;
                    usize::try_from(n.max(0)).unwrap_or(usize::MAX)
                }
                _ => {
                    let n = ((stop.as_f64() - start.as_f64()) / step.as_f64()).ceil();
                    if !n.is_finite() {
                        return Err(Error::new(
                            ErrorKind::Input,
                            call.span,
                            "`arange` needs finite numbers",
                        ));
                    }
                    n.max(0.0) as usize
                }
            };
            let all_ints = matches!((start, stop, step), (Num::Int(_), Num::Int(_), Num::Int(_)));
            let dtype = dtype(a[3])?.unwrap_or(if all_ints {
                DType::Int64
            } else {
                DType::Float64
            });
            if len
                .checked_mul(dtype.itemsize())
                .is_none_or(|b| b > isize::MAX as usize)
            {
                return Err(Error::new(
                    ErrorKind::Shape,
                    call.span,
                    "this range has too many elements to allocate",
                ));
            }
            Ok(Plan::Arange {
                start,
                step,
                len,
                dtype,
            })
        }
        "zeros" | "ones" => {
            let a = bind(call, &["shape", "dtype"], 1)?;
            let dtype = dtype(a[1])?.unwrap_or(DType::Float64);
            let shape = shape(a[0].expect("required"), dtype.itemsize())?;
            let value = Num::Int(i64::from(call.name == "ones"));
            Ok(Plan::Fill {
                shape,
                value,
                dtype,
            })
        }
        "full" => {
            let a = bind(call, &["shape", "fill_value", "dtype"], 2)?;
            let value = number(a[1].expect("required"), "fill_value")?;
            // NumPy's choice: an integer fill gives int64, a float fill float64.
            let natural = if matches!(value, Num::Int(_)) {
                DType::Int64
            } else {
                DType::Float64
            };
            let dtype = dtype(a[2])?.unwrap_or(natural);
            let shape = shape(a[0].expect("required"), dtype.itemsize())?;
            Ok(Plan::Fill {
                shape,
                value,
                dtype,
            })
        }
        "load" => {
            let a = bind(call, &["file"], 1)?;
            let file = a[0].expect("required");
            match &file.value {
                Value::Str(path) => Ok(Plan::Load {
                    path: PathBuf::from(path),
                }),
                _ => Err(Error::new(
                    ErrorKind::Type,
                    file.span,
                    "`file` must be a quoted path, like \"x.npy\"",
                )),
            }
        }
        other => Err(Error::new(
            ErrorKind::UnknownFunction,
            call.name_span,
            format!("unknown generator `{other}`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(text: &str) -> Plan {
        parse(text, 0)
            .expect("a generator call")
            .expect("well formed")
    }

    fn error_of(text: &str) -> Error {
        parse(text, 0)
            .expect("a generator call")
            .expect_err("refused")
    }

    #[test]
    fn numbers_are_spelled_as_in_python() {
        assert_eq!(
            plan_of("linspace(0, 1, 1_000_000)"),
            Plan::Linspace {
                start: 0.0,
                stop: 1.0,
                num: 1_000_000
            }
        );
        assert_eq!(
            plan_of("random(1e6)"),
            Plan::Random {
                shape: vec![1_000_000],
                seed: None
            }
        );
        assert_eq!(
            plan_of("random((2, 3), seed=7)"),
            Plan::Random {
                shape: vec![2, 3],
                seed: Some(7)
            }
        );
        assert_eq!(
            plan_of("full(0x10, -2.5)"),
            Plan::Fill {
                shape: vec![16],
                value: Num::Float(-2.5),
                dtype: DType::Float64
            }
        );
        assert_eq!(
            plan_of("zeros(())"),
            Plan::Fill {
                shape: vec![],
                value: Num::Int(0),
                dtype: DType::Float64
            }
        );
        assert_eq!(
            plan_of("ones((5,))"),
            Plan::Fill {
                shape: vec![5],
                value: Num::Int(1),
                dtype: DType::Float64
            }
        );
        assert_eq!(
            plan_of("load('x.npy')"),
            Plan::Load {
                path: PathBuf::from("x.npy")
            }
        );
    }

    #[test]
    fn other_text_is_an_expression() {
        assert!(parse("2*a + 1", 0).is_none());
        assert!(parse("sin(a)", 0).is_none());
        assert!(parse("linspace", 0).is_none());
    }

    #[test]
    fn mistakes_point_at_their_place() {
        let e = error_of("zeros(-3)");
        assert_eq!((e.span().start, e.span().end), (6, 8));
        let e = error_of("random(1.5)");
        assert_eq!((e.span().start, e.span().end), (7, 10));
        let e = error_of("linspace(0, 1, 10) * 2");
        assert_eq!(e.span().start, 19);
        let e = error_of("arange(0, 1, 0)");
        assert_eq!((e.span().start, e.span().end), (13, 14));
        let e = error_of("full(3, dtype='int8', fill_value=1)");
        assert_eq!(e.kind(), ErrorKind::Type);
        assert!(
            error_of("ones(3, colour=1)")
                .message()
                .contains("no parameter")
        );
        assert!(error_of("full(3)").message().contains("fill_value"));
        assert!(error_of("zeros(n)").message().contains("literals"));
        assert!(error_of("zeros(3").message().contains("not closed"));
    }

    #[test]
    fn arange_matches_numpy() {
        let ints = plan_of("arange(10)").run().unwrap();
        assert_eq!(ints.dtype(), DType::Int64);
        assert_eq!(
            ints.as_slice::<i64>().unwrap(),
            &(0..10).collect::<Vec<i64>>()[..]
        );
        let down = plan_of("arange(5, -5, -3)").run().unwrap();
        assert_eq!(down.as_slice::<i64>().unwrap(), &[5, 2, -1, -4]);
        let floats = plan_of("arange(0, 1, 0.25)").run().unwrap();
        assert_eq!(floats.as_slice::<f64>().unwrap(), &[0.0, 0.25, 0.5, 0.75]);
        let empty = plan_of("arange(3, 1)").run().unwrap();
        assert!(empty.is_empty());
        let narrow = plan_of("arange(4, dtype='int32')").run().unwrap();
        assert_eq!(narrow.as_slice::<i32>().unwrap(), &[0, 1, 2, 3]);
    }

    #[test]
    fn linspace_matches_numpy() {
        let a = plan_of("linspace(0, 1, 5)").run().unwrap();
        assert_eq!(a.as_slice::<f64>().unwrap(), &[0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(plan_of("linspace(2, 3)").run().unwrap().len(), 50);
        assert_eq!(
            plan_of("linspace(2, 3, 1)")
                .run()
                .unwrap()
                .as_slice::<f64>()
                .unwrap(),
            &[2.0]
        );
    }

    #[test]
    fn random_is_uniform_and_seeded() {
        let a = plan_of("random(10000, seed=3)").run().unwrap();
        let v = a.as_slice::<f64>().unwrap();
        assert!(v.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert_eq!(plan_of("random(10000, seed=3)").run().unwrap(), a);
        assert_ne!(plan_of("random(10000)").with_seed(4).run().unwrap(), a);
    }

    #[test]
    fn fills_take_a_dtype() {
        let z = plan_of("zeros((3, 4))").run().unwrap();
        assert_eq!((z.shape(), z.dtype()), (&[3usize, 4][..], DType::Float64));
        let f = plan_of("full(3, 7)").run().unwrap();
        assert_eq!(f.as_slice::<i64>().unwrap(), &[7, 7, 7]);
        let b = plan_of("ones(2, dtype=\"bool\")").run().unwrap();
        assert_eq!(b.as_slice::<bool>().unwrap(), &[true, true]);
        let c = plan_of("full(1, 2.5, 'complex128')").run().unwrap();
        assert_eq!(
            c.as_slice::<Complex64>().unwrap(),
            &[Complex64::new(2.5, 0.0)]
        );
    }
}
