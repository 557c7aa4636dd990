//! Errors: every failure of parsing, type checking or evaluation, and every
//! array or view that cannot be made, is an [`Error`] value with a kind, a
//! message and the byte span of the place in the expression it is about (an
//! empty span at 0 when there is no text, as for a shape that does not fit
//! its data). `Display` gives one line; [`Error::rendered`] the report with
//! a caret under the place, done by `annotate-snippets`, the renderer of
//! rustc's diagnostics.

use std::fmt;
use std::sync::Arc;

/// A half-open byte range `start..end` in the expression text.
///
/// ```
/// let err = vexpr::evaluate("1 + x", &vexpr::Env::new()).unwrap_err();
/// let span = err.span();
/// assert_eq!(&err.source_text().unwrap()[span.start..span.end], "x");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte of the place.
    pub start: usize,
    /// One past the last byte of the place.
    pub end: usize,
}

impl fmt::Display for Span {
    /// `start..end`, as a Rust range.
    ///
    /// ```
    /// assert_eq!(vexpr::Span::new(2, 6).to_string(), "2..6");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl Span {
    /// Creates a span; `end` is clamped so that the span is never reversed.
    ///
    /// ```
    /// let s = vexpr::Span::new(2, 6);
    /// assert_eq!(s.len(), 4);
    /// ```
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// The smallest span covering both.
    ///
    /// ```
    /// use vexpr::Span;
    /// assert_eq!(Span::new(4, 6).to(Span::new(0, 1)), Span::new(0, 6));
    /// ```
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Length in bytes.
    ///
    /// ```
    /// assert_eq!(vexpr::Span::new(3, 3).len(), 0);
    /// ```
    pub fn len(self) -> usize {
        // The fields are public: a span made by hand may be reversed.
        self.end.saturating_sub(self.start)
    }

    /// True for a zero-width span (such as "end of input").
    ///
    /// ```
    /// assert!(vexpr::Span::new(3, 3).is_empty());
    /// ```
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// What went wrong, for callers that want to react to the kind of failure.
///
/// ```
/// use vexpr::{Env, ErrorKind};
/// let env = Env::new().with("a", &[1.0][..]);
/// assert_eq!(vexpr::evaluate("a +", &env).unwrap_err().kind(), ErrorKind::Syntax);
/// assert_eq!(vexpr::evaluate("b", &env).unwrap_err().kind(), ErrorKind::UnknownName);
/// assert_eq!(vexpr::evaluate("sinn(a)", &env).unwrap_err().kind(), ErrorKind::UnknownFunction);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not a well-formed expression (includes empty input).
    Syntax,
    /// A number literal that cannot be represented.
    Literal,
    /// A name that is neither a variable of the environment nor a constant.
    UnknownName,
    /// A call to a function that does not exist.
    UnknownFunction,
    /// A call with the wrong number of arguments or a bad keyword argument.
    Arity,
    /// Operand types that an operator or function does not accept.
    Type,
    /// Input shapes that do not broadcast together, an output of the wrong
    /// shape, or an array or view whose shape, strides or offset do not fit
    /// its data (these have no expression: their span is empty, at 0).
    Shape,
    /// Nesting beyond [`crate::MAX_NESTING`].
    TooDeep,
    /// An expression beyond the size limits: longer than
    /// [`crate::MAX_SOURCE_LEN`] bytes, more than [`crate::MAX_TOKENS`]
    /// tokens, or more than [`crate::MAX_STAGES`] reductions.
    TooLarge,
    /// An input value the engine cannot take (for example an unsupported dtype).
    Input,
    /// An operation that is recognised but not supported.
    Unsupported,
    /// A value an operation refuses at run time (integers to negative powers,
    /// reductions of empty arrays without an identity).
    Value,
    /// A chunked evaluation ([`Expr::eval_chunked`](crate::Expr::eval_chunked))
    /// could not read an input or write the result (the message says which,
    /// and why), or could not allocate a chunk buffer; the span is the whole
    /// expression.
    Io,
    /// The evaluation was stopped by its interrupt flag
    /// ([`Options::with_interrupt`](crate::Options::with_interrupt)); the span is the
    /// whole expression.
    Interrupted,
}

impl fmt::Display for ErrorKind {
    /// A short lowercase description of the kind.
    ///
    /// ```
    /// assert_eq!(vexpr::ErrorKind::UnknownName.to_string(), "unknown name");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Syntax => "syntax error",
            ErrorKind::Literal => "bad literal",
            ErrorKind::UnknownName => "unknown name",
            ErrorKind::UnknownFunction => "unknown function",
            ErrorKind::Arity => "wrong arguments",
            ErrorKind::Type => "type error",
            ErrorKind::Shape => "shape error",
            ErrorKind::TooDeep => "nested too deeply",
            ErrorKind::TooLarge => "too large",
            ErrorKind::Input => "bad input",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Value => "bad value",
            ErrorKind::Io => "input/output error",
            ErrorKind::Interrupted => "interrupted",
        })
    }
}

/// An error with the place in the expression it refers to.
///
/// `Display` is one line: the message and, when the error has a place, its
/// byte span, as in ``unknown function `sinn` (at bytes 2..6)``.
/// [`Error::rendered`] is the full report, with the expression and
/// a caret under the place, for the error's own text (all errors about an
/// expression know it); [`Error::render`] renders against any text.
///
/// ```
/// let err = vexpr::evaluate("2*sinn(a)", &vexpr::Env::new().with("a", &[1.0][..])).unwrap_err();
/// assert_eq!(err.kind(), vexpr::ErrorKind::UnknownFunction);
/// assert_eq!((err.span().start, err.span().end), (2, 6));
/// assert!(err.to_string().ends_with("(at bytes 2..6)"));
/// assert!(!err.to_string().contains('\n'));
/// assert!(err.rendered().contains("^^^^"));
/// ```
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    span: Span,
    message: String,
    source_text: Option<Arc<str>>,
}

impl Error {
    /// Creates an error about the text at `span`.
    ///
    /// ```
    /// use vexpr::{Error, ErrorKind, Span};
    /// let err = Error::new(ErrorKind::Input, Span::new(0, 3), "no such file");
    /// assert_eq!(err.to_string(), "no such file (at bytes 0..3)");
    /// ```
    pub fn new(kind: ErrorKind, span: Span, message: impl Into<String>) -> Error {
        Error {
            kind,
            span,
            message: message.into(),
            source_text: None,
        }
    }

    /// Attaches the expression text, so that [`Error::rendered`] shows it
    /// with a caret.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vexpr::{Error, ErrorKind, Span};
    /// let text: Arc<str> = Arc::from("a + c");
    /// let err = Error::new(ErrorKind::UnknownName, Span::new(4, 5), "unknown variable `c`")
    ///     .with_source(&text);
    /// assert_eq!(err.source_text(), Some("a + c"));
    /// ```
    pub fn with_source(mut self, source: &Arc<str>) -> Error {
        self.source_text = Some(Arc::clone(source));
        self
    }

    /// The kind of failure.
    ///
    /// ```
    /// let err = vexpr::evaluate("a + ", &vexpr::Env::new()).unwrap_err();
    /// assert_eq!(err.kind(), vexpr::ErrorKind::Syntax);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte span in the expression.
    ///
    /// ```
    /// let err = vexpr::evaluate("1 + b", &vexpr::Env::new()).unwrap_err();
    /// assert_eq!(err.span(), vexpr::Span::new(4, 5));
    /// ```
    pub fn span(&self) -> Span {
        self.span
    }

    /// The message alone, without the place.
    ///
    /// ```
    /// let err = vexpr::Array::from_vec(vec![1.0, 2.0], &[3]).unwrap_err();
    /// assert_eq!(err.kind(), vexpr::ErrorKind::Shape);
    /// assert_eq!(err.to_string(), err.message());
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The expression text the span refers to, when the error knows it (all
    /// errors returned by the public API do).
    ///
    /// ```
    /// let err = vexpr::evaluate("1 +", &vexpr::Env::new()).unwrap_err();
    /// assert_eq!(err.source_text(), Some("1 +"));
    /// ```
    pub fn source_text(&self) -> Option<&str> {
        self.source_text.as_deref()
    }

    /// The full report: `error: MESSAGE`, then the error's expression with a
    /// caret under the place ([`Error::render`] against
    /// [`Error::source_text`]). An error without text (an array whose shape
    /// does not fit its data) is the one line `error: ` and its `Display`.
    ///
    /// ```
    /// let err = vexpr::evaluate("a +", &vexpr::Env::new()).unwrap_err();
    /// let report = err.rendered();
    /// assert!(report.starts_with("error: "));
    /// assert!(report.contains("a +") && report.contains('^'));
    /// ```
    pub fn rendered(&self) -> String {
        match &self.source_text {
            Some(source) => self.render(source),
            None => format!("error: {self}"),
        }
    }

    /// Renders the error against `source`: the message, then the expression with
    /// a caret under the span. Long expressions are cut around the place.
    ///
    /// ```
    /// use vexpr::{Error, ErrorKind, Span};
    /// let err = Error::new(ErrorKind::UnknownName, Span::new(4, 5), "unknown variable `c`");
    /// assert!(err.render("a + c").contains("^"));
    /// ```
    pub fn render(&self, source: &str) -> String {
        use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
        // A span may point one past the end ("unexpected end of input");
        // clamp it and keep it on a char boundary so the renderer never slices
        // a multi-byte character.
        let start = floor_char_boundary(source, self.span.start.min(source.len()));
        let end = ceil_char_boundary(source, self.span.end.clamp(start, source.len()));
        let report = &[Level::ERROR.primary_title(&self.message).element(
            Snippet::source(source)
                .line_start(1)
                .annotation(AnnotationKind::Primary.span(start..end)),
        )];
        Renderer::plain().render(report)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

impl fmt::Display for Error {
    /// The message, then ` (at bytes START..END)` when the error has a place:
    /// an expression, or a span other than the empty one at 0.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.source_text.is_some() || self.span != Span::default() {
            write!(f, " (at bytes {})", self.span)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("span", &self.span)
            .field("message", &self.message)
            .finish()
    }
}

impl std::error::Error for Error {}

/// Shorthand for results whose error is [`Error`].
///
/// ```
/// fn doubled(a: &[f64]) -> vexpr::Result<vexpr::Array> {
///     vexpr::evaluate("2 * a", &vexpr::Env::new().with("a", a))
/// }
/// assert_eq!(doubled(&[1.5]).unwrap().as_slice::<f64>().unwrap(), &[3.0]);
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_sits_under_the_span() {
        let err = Error::new(
            ErrorKind::UnknownFunction,
            Span::new(2, 6),
            "unknown function `sinn`",
        );
        let text = err.render("2*sinn(a) + b");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "error: unknown function `sinn`");
        let code = lines.iter().find(|l| l.contains("2*sinn(a) + b")).unwrap();
        let carets = lines.iter().find(|l| l.contains('^')).unwrap();
        let code_col = code.find("2*sinn").unwrap();
        assert_eq!(carets.find('^').unwrap(), code_col + 2);
        assert_eq!(carets.matches('^').count(), 4);
    }

    #[test]
    fn end_of_input_and_multibyte_spans_render() {
        let err = Error::new(
            ErrorKind::Syntax,
            Span::new(3, 3),
            "unexpected end of input",
        );
        assert!(err.render("a +").contains('^'));
        let err = Error::new(ErrorKind::Syntax, Span::new(5, 6), "unexpected character");
        assert!(err.render("a + \u{e9}b").contains('^'));
        let err = Error::new(ErrorKind::Syntax, Span::new(100, 200), "past the end");
        assert!(err.render("a").contains("past the end"));
    }

    #[test]
    fn display_is_one_line_and_rendered_has_the_caret() {
        let text: Arc<str> = Arc::from("2*sinn(a)");
        let err = Error::new(
            ErrorKind::UnknownFunction,
            Span::new(2, 6),
            "unknown function `sinn`",
        );
        assert_eq!(err.to_string(), "unknown function `sinn` (at bytes 2..6)");
        assert_eq!(
            err.rendered(),
            "error: unknown function `sinn` (at bytes 2..6)"
        );
        let err = err.with_source(&text);
        assert_eq!(err.to_string(), "unknown function `sinn` (at bytes 2..6)");
        assert_eq!(err.rendered(), err.render("2*sinn(a)"));
        assert!(err.rendered().contains("^^^^"));
        // No text and no place: the message alone.
        let err = Error::new(
            ErrorKind::Shape,
            Span::default(),
            "shape [3] needs 3 elements",
        );
        assert_eq!(err.to_string(), "shape [3] needs 3 elements");
        assert_eq!(err.rendered(), "error: shape [3] needs 3 elements");
    }
}
