//! Parser tests: every precedence rule, literals, and errors with their spans.

use super::ast::{BinaryOp, Expr, ExprKind, Literal, UnaryOp};
use super::parse;
use crate::error::{ErrorKind, Span};

/// Renders a tree fully parenthesized, so precedence is visible in the test.
fn show(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Literal(Literal::Int(v)) => v.to_string(),
        ExprKind::Literal(Literal::Float(v)) => format!("{v:?}"),
        ExprKind::Literal(Literal::Imag(v)) => format!("{v:?}j"),
        ExprKind::Literal(Literal::Bool(v)) => if *v { "True" } else { "False" }.to_string(),
        ExprKind::Literal(Literal::Bytes(b)) => format!("{:?}", String::from_utf8_lossy(b)),
        ExprKind::Name(n) => n.clone(),
        ExprKind::Unary { op, operand, .. } => format!("({}{})", op.symbol(), show(operand)),
        ExprKind::Binary { op, lhs, rhs, .. } => {
            format!("({} {} {})", show(lhs), op.symbol(), show(rhs))
        }
        ExprKind::Call {
            name,
            args,
            keywords,
            ..
        } => {
            let mut parts: Vec<String> = args.iter().map(show).collect();
            parts.extend(
                keywords
                    .iter()
                    .map(|k| format!("{}={}", k.name, show(&k.value))),
            );
            format!("{name}({})", parts.join(", "))
        }
    }
}

fn p(source: &str) -> String {
    show(&parse(source).unwrap_or_else(|e| panic!("{source}: {}", e.render(source))))
}

#[test]
fn power_binds_tighter_than_unary_minus_on_its_left() {
    assert_eq!(p("-a**2"), "(-(a ** 2))");
    assert_eq!(p("a**-b"), "(a ** (-b))");
    assert_eq!(p("-a**-b**c"), "(-(a ** (-(b ** c))))");
}

#[test]
fn power_is_right_associative() {
    assert_eq!(p("a**b**c"), "(a ** (b ** c))");
    assert_eq!(p("(a**b)**c"), "((a ** b) ** c)");
}

#[test]
fn multiplicative_before_additive_and_left_associative() {
    assert_eq!(p("a + b * c"), "(a + (b * c))");
    assert_eq!(p("a - b - c"), "((a - b) - c)");
    assert_eq!(p("a / b * c % d // e"), "((((a / b) * c) % d) // e)");
    assert_eq!(p("-a * b"), "((-a) * b)");
}

#[test]
fn shifts_then_bitwise_then_comparisons() {
    assert_eq!(p("a + b << c"), "((a + b) << c)");
    assert_eq!(p("a << b & c"), "((a << b) & c)");
    assert_eq!(p("a & b ^ c | d"), "(((a & b) ^ c) | d)");
    assert_eq!(p("a | b < c | d"), "((a | b) < (c | d))");
    assert_eq!(p("a < b"), "(a < b)");
    assert_eq!(p("(a > 0) & (b <= 1)"), "((a > 0) & (b <= 1))");
    assert_eq!(p("~a & b"), "((~a) & b)");
    assert_eq!(p("a == b"), "(a == b)");
    assert_eq!(p("a != b"), "(a != b)");
    assert_eq!(p("a >= b"), "(a >= b)");
}

#[test]
fn literals_as_python_writes_them() {
    assert_eq!(
        p("1 + 1. + .5 + 1e-3 + 2.5E+2 + 1_000"),
        "(((((1 + 1.0) + 0.5) + 0.001) + 250.0) + 1000)"
    );
    assert_eq!(p("0x10 + 0o10 + 0b10 + 3j"), "(((16 + 8) + 2) + 3.0j)");
    assert_eq!(p("True | False"), "(True | False)");
    assert_eq!(p("s == b'ab\\x41'"), "(s == \"abA\")");
}

#[test]
fn calls_with_keyword_arguments() {
    assert_eq!(p("sum(a, axis=1)"), "sum(a, axis=1)");
    assert_eq!(p("where(a > b, a, b)"), "where((a > b), a, b)");
    assert_eq!(p("f()"), "f()");
    assert_eq!(p("f(a,)"), "f(a)");
}

#[test]
fn every_node_carries_its_span() {
    let e = parse("2*sinn(a) + b").unwrap();
    let ExprKind::Binary {
        op: BinaryOp::Add,
        lhs,
        op_span,
        ..
    } = &e.kind
    else {
        panic!()
    };
    assert_eq!(*op_span, Span::new(10, 11));
    assert_eq!(e.span, Span::new(0, 13));
    let ExprKind::Binary { rhs: call, .. } = &lhs.kind else {
        panic!()
    };
    let ExprKind::Call { name_span, .. } = &call.kind else {
        panic!()
    };
    assert_eq!(*name_span, Span::new(2, 6));
    let ExprKind::Unary {
        op: UnaryOp::Neg,
        op_span,
        ..
    } = parse("  -a").unwrap().kind
    else {
        panic!()
    };
    assert_eq!(op_span, Span::new(2, 3));
}

fn error(source: &str) -> (ErrorKind, Span, String) {
    let e = parse(source).expect_err(source);
    (e.kind(), e.span(), e.message().to_string())
}

#[test]
fn syntax_errors_point_at_the_place() {
    assert_eq!(error("a + * b").0, ErrorKind::Syntax);
    assert_eq!(error("a + * b").1, Span::new(4, 5));
    assert_eq!(error("a +").1, Span::new(3, 3));
    assert_eq!(error("(a + b").1, Span::new(6, 6));
    assert_eq!(error("a b").1, Span::new(2, 3));
    assert_eq!(error("a + $").1, Span::new(4, 5));
    assert_eq!(error("a < b < c").1, Span::new(6, 7));
    assert!(error("a < b < c").2.contains("chained"));
    assert_eq!(error("f(axis=1, a)").0, ErrorKind::Syntax);
    assert_eq!(error("'abc").0, ErrorKind::Syntax);
    assert_eq!(error("007").0, ErrorKind::Literal);
    assert_eq!(
        error("99999999999999999999999999999999999999999").0,
        ErrorKind::Literal
    );
}

#[test]
fn empty_and_blank_expressions_are_errors() {
    for source in ["", "   ", "\n\t"] {
        let (kind, span, message) = error(source);
        assert_eq!(kind, ErrorKind::Syntax);
        assert_eq!(span, Span::new(0, source.len()));
        assert_eq!(message, "empty expression");
    }
}

#[test]
#[cfg_attr(miri, ignore = "hundreds of thousands of tokens: hours under Miri")]
fn nesting_beyond_the_limit_is_refused_not_overflowed() {
    let limit = crate::MAX_NESTING;
    let ok = format!("{}a", "-".repeat(limit - 1));
    assert!(parse(&ok).is_ok());
    let too_deep = format!("{}a", "-".repeat(100_000));
    assert_eq!(error(&too_deep).0, ErrorKind::TooDeep);
    let parens = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(p(&parens), "a");
    let chain = vec!["a"; 300_000].join("+");
    assert_eq!(error(&chain).0, ErrorKind::TooDeep);
}
