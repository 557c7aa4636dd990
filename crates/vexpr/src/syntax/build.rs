//! Constructors used by the grammar's actions: they decode literal text, attach
//! spans, and refuse nesting deeper than [`crate::MAX_NESTING`] while the tree is
//! being built, so that no later pass ever sees a tree too deep to walk.

use super::ast::{BinaryOp, Expr, ExprKind, Keyword, Literal, UnaryOp};
use crate::error::{Error, ErrorKind, Span};
use lalrpop_util::ParseError;

type ActionResult<'src> = Result<Expr, ParseError<usize, super::lexer::Token<'src>, Error>>;

/// A call argument before positional and keyword arguments are separated.
pub enum Argument {
    /// `f(x)`
    Positional(Expr),
    /// `f(axis=1)`
    Keyword(Keyword),
}

fn node<'src>(kind: ExprKind, span: Span, children_depth: u32) -> ActionResult<'src> {
    let depth = children_depth + 1;
    if depth as usize > crate::MAX_NESTING {
        return Err(user_error(
            ErrorKind::TooDeep,
            span,
            format!(
                "expression nested too deeply (the limit is {} levels)",
                crate::MAX_NESTING
            ),
        ));
    }
    Ok(Expr { kind, span, depth })
}

fn leaf(kind: ExprKind, l: usize, r: usize) -> Expr {
    Expr {
        kind,
        span: Span::new(l, r),
        depth: 1,
    }
}

fn user_error<'src>(
    kind: ErrorKind,
    span: Span,
    message: String,
) -> ParseError<usize, super::lexer::Token<'src>, Error> {
    ParseError::User {
        error: Error::new(kind, span, message),
    }
}

pub fn binary<'src>(
    lhs: Expr,
    (op, (ol, or)): (BinaryOp, (usize, usize)),
    rhs: Expr,
    l: usize,
    r: usize,
) -> ActionResult<'src> {
    let depth = lhs.depth.max(rhs.depth);
    let kind = ExprKind::Binary {
        op,
        op_span: Span::new(ol, or),
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    };
    node(kind, Span::new(l, r), depth)
}

pub fn chained_comparison<'src>((l, r): (usize, usize)) -> ActionResult<'src> {
    Err(user_error(
        ErrorKind::Syntax,
        Span::new(l, r),
        "chained comparisons are not supported: write `(a < b) & (b < c)`".to_string(),
    ))
}

pub fn unary<'src>(
    (op, (ol, or)): (UnaryOp, (usize, usize)),
    operand: Expr,
    l: usize,
    r: usize,
) -> ActionResult<'src> {
    let depth = operand.depth;
    let kind = ExprKind::Unary {
        op,
        op_span: Span::new(ol, or),
        operand: Box::new(operand),
    };
    node(kind, Span::new(l, r), depth)
}

pub fn name(text: &str, l: usize, r: usize) -> Expr {
    leaf(ExprKind::Name(text.to_string()), l, r)
}

pub fn boolean(value: bool, l: usize, r: usize) -> Expr {
    leaf(ExprKind::Literal(Literal::Bool(value)), l, r)
}

pub fn int<'src>(text: &str, l: usize, r: usize) -> ActionResult<'src> {
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    let (radix, body) = match digits.get(..2) {
        Some("0x" | "0X") => (16, &digits[2..]),
        Some("0o" | "0O") => (8, &digits[2..]),
        Some("0b" | "0B") => (2, &digits[2..]),
        _ => (10, &digits[..]),
    };
    // Python 3 refuses `012`; so do we, rather than guess octal.
    if radix == 10 && body.len() > 1 && body.starts_with('0') && body.bytes().any(|b| b != b'0') {
        return Err(user_error(
            ErrorKind::Literal,
            Span::new(l, r),
            "leading zeros in a decimal integer literal are not permitted; use 0o for octal".into(),
        ));
    }
    match i128::from_str_radix(body, radix) {
        Ok(value) => Ok(leaf(ExprKind::Literal(Literal::Int(value)), l, r)),
        Err(_) => Err(user_error(
            ErrorKind::Literal,
            Span::new(l, r),
            "integer literal is too large".into(),
        )),
    }
}

fn parse_float<'src>(
    text: &str,
    l: usize,
    r: usize,
) -> Result<f64, ParseError<usize, super::lexer::Token<'src>, Error>> {
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    digits.parse::<f64>().map_err(|_| {
        user_error(
            ErrorKind::Literal,
            Span::new(l, r),
            format!("invalid number literal `{text}`"),
        )
    })
}

pub fn float<'src>(text: &str, l: usize, r: usize) -> ActionResult<'src> {
    let value = parse_float(text, l, r)?;
    Ok(leaf(ExprKind::Literal(Literal::Float(value)), l, r))
}

pub fn imag<'src>(text: &str, l: usize, r: usize) -> ActionResult<'src> {
    let value = parse_float(&text[..text.len() - 1], l, r)?;
    Ok(leaf(ExprKind::Literal(Literal::Imag(value)), l, r))
}

pub fn string<'src>(text: &str, l: usize, r: usize) -> ActionResult<'src> {
    let body = text.trim_start_matches(['b', 'B']);
    let body = &body[1..body.len() - 1];
    let mut bytes = Vec::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => bytes.push(b'\n'),
            Some('t') => bytes.push(b'\t'),
            Some('r') => bytes.push(b'\r'),
            Some('0') => bytes.push(0),
            Some(q @ ('\\' | '\'' | '"')) => bytes.push(q as u8),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) if hex.len() == 2 => bytes.push(b),
                    _ => {
                        return Err(user_error(
                            ErrorKind::Literal,
                            Span::new(l, r),
                            "invalid \\x escape: it takes two hex digits".into(),
                        ));
                    }
                }
            }
            // Python keeps unknown escapes as written.
            Some(other) => {
                bytes.push(b'\\');
                let mut buf = [0; 4];
                bytes.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
            None => bytes.push(b'\\'),
        }
    }
    Ok(leaf(ExprKind::Literal(Literal::Bytes(bytes)), l, r))
}

pub fn call<'src>(
    name: &str,
    (nl, nr): (usize, usize),
    arguments: Vec<Argument>,
    l: usize,
    r: usize,
) -> ActionResult<'src> {
    let mut args = Vec::new();
    let mut keywords: Vec<Keyword> = Vec::new();
    for argument in arguments {
        match argument {
            Argument::Positional(e) => {
                if let Some(k) = keywords.first() {
                    return Err(user_error(
                        ErrorKind::Syntax,
                        e.span,
                        format!("positional argument follows keyword argument `{}`", k.name),
                    ));
                }
                args.push(e);
            }
            Argument::Keyword(k) => keywords.push(k),
        }
    }
    let depth = args
        .iter()
        .map(|a| a.depth)
        .chain(keywords.iter().map(|k| k.value.depth))
        .max()
        .unwrap_or(0);
    let kind = ExprKind::Call {
        name: name.to_string(),
        name_span: Span::new(nl, nr),
        args,
        keywords,
    };
    node(kind, Span::new(l, r), depth)
}

pub fn attribute<'src>(
    object: Expr,
    name: &str,
    (al, ar): (usize, usize),
    l: usize,
    r: usize,
) -> ActionResult<'src> {
    if name != "real" && name != "imag" {
        return Err(user_error(
            ErrorKind::Syntax,
            Span::new(al, ar),
            format!("unknown attribute `{name}`: only `.real` and `.imag` exist"),
        ));
    }
    let depth = object.depth;
    let kind = ExprKind::Call {
        name: name.to_string(),
        name_span: Span::new(al, ar),
        args: vec![object],
        keywords: Vec::new(),
    };
    node(kind, Span::new(l, r), depth)
}
