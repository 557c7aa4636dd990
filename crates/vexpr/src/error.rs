//! Errors: every failure of parsing, type checking or evaluation is an [`Error`]
//! value with a kind, a message and the byte span of the place in the
//! expression it is about. Rendering (with a caret under the place) is done by
//! `annotate-snippets`, the renderer of rustc's diagnostics.

use std::fmt;
use std::sync::Arc;

/// A half-open byte range `start..end` in the expression text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte of the place.
    pub start: usize,
    /// One past the last byte of the place.
    pub end: usize,
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
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// True for a zero-width span (such as "end of input").
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// What went wrong, for callers that want to react to the kind of failure.
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
    /// Input shapes that do not broadcast together, or an output of the wrong shape.
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
    /// ([`Options::interrupt`](crate::Options::interrupt)); the span is the
    /// whole expression.
    Interrupted,
}

/// An error with the place in the expression it refers to.
///
/// `Display` renders the expression with a caret under that place when the
/// error knows its expression text (all errors returned by the public API do):
///
/// ```
/// let err = vexpr::evaluate("2*sinn(a)", &vexpr::Env::new().with("a", &[1.0][..])).unwrap_err();
/// assert_eq!(err.kind(), vexpr::ErrorKind::UnknownFunction);
/// assert_eq!((err.span().start, err.span().end), (2, 6));
/// assert!(err.to_string().contains("^^^^"));
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
    pub fn new(kind: ErrorKind, span: Span, message: impl Into<String>) -> Error {
        Error {
            kind,
            span,
            message: message.into(),
            source_text: None,
        }
    }

    /// Attaches the expression text, so that the error renders with a caret.
    pub fn with_source(mut self, source: &Arc<str>) -> Error {
        self.source_text = Some(Arc::clone(source));
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte span in the expression.
    pub fn span(&self) -> Span {
        self.span
    }

    /// The one-line message, without the rendered expression.
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

    /// Renders the error against `source`: the message, then the expression with
    /// a caret under the span. Long expressions are cut around the place.
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source_text {
            Some(source) => f.write_str(&self.render(source)),
            None => write!(
                f,
                "error: {} (at bytes {}..{})",
                self.message, self.span.start, self.span.end
            ),
        }
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
}
