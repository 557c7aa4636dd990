//! No input string may make vexpr panic: random token soups and random byte
//! strings either evaluate or give an error with a span inside the text.

use proptest::prelude::*;
use vexpr::{Array, Env, evaluate};

const TOKENS: [&str; 48] = [
    "a",
    "b",
    "s",
    "n",
    "1",
    "0",
    "2.5",
    "1e308",
    "-",
    "+",
    "*",
    "/",
    "//",
    "%",
    "**",
    "<<",
    ">>",
    "&",
    "|",
    "^",
    "~",
    "<",
    "<=",
    "==",
    "!=",
    ">",
    "(",
    ")",
    ",",
    "=",
    "sin",
    "where",
    "sum",
    "axis",
    "contains",
    "'x'",
    "True",
    "1j",
    "complex",
    "max",
    "abs",
    "arctan2",
    ".real",
    "None",
    "2147483648",
    "0x7f",
    " ",
    "prod",
];

fn env_with<'a>(a: &'a [f64], b: &'a Array, s: &'a Array, n: &'a [i32]) -> Env<'a> {
    Env::new()
        .with("a", a)
        .with("b", b)
        .with("s", s)
        .with("n", n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(TOKENS.to_vec()), 0..24)) {
        let source = tokens.join(" ");
        let a = [0.5, -1.0, 0.0];
        let b = Array::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
        let s = Array::from_buffer(vexpr::Buffer::Bytes { data: b"xyab".to_vec(), width: 2 }, &[2]).unwrap();
        let n = [3, -7, 0];
        if let Err(e) = evaluate(&source, &env_with(&a, &b, &s, &n)) {
            prop_assert!(e.span().end <= source.len(), "{source}: span {:?}", e.span());
            prop_assert!(e.rendered().starts_with("error"));
            prop_assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn arbitrary_text_never_panics(source in "\\PC{0,40}") {
        let a = [0.5, -1.0, 0.0];
        let b = Array::from_vec(vec![1.0; 6], &[2, 3]).unwrap();
        let s = Array::from_buffer(vexpr::Buffer::Bytes { data: b"xyab".to_vec(), width: 2 }, &[2]).unwrap();
        let n = [3, -7, 0];
        if let Err(e) = evaluate(&source, &env_with(&a, &b, &s, &n)) {
            prop_assert!(e.span().end <= source.len() + 1);
            let _ = e.to_string();
            let _ = e.rendered();
        }
    }
}
