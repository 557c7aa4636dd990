//! What the worst expressions within (and just past) the size limits cost to
//! compile: `cargo run --release -p vexpr --example compile_limits`.
//!
//! Each shape is compiled in a child process of its own, so that the peak
//! resident memory it reports (`VmHWM`) is that shape's alone. The numbers are
//! the median of five compiles. `docs/reliability.md` records a run.

use std::process::Command;
use std::time::{Duration, Instant};
use vexpr::{DType, Expr, Signature};

/// The shapes: a name, and the text.
fn shapes() -> Vec<(&'static str, String)> {
    let nesting = vexpr::MAX_NESTING;
    vec![
        // Within the limits.
        ("balanced sum of 8,192 products", balanced(13, "a*", "")),
        (
            "balanced sum of 4,096 sin(a+k)",
            balanced(12, "sin(a+", ")"),
        ),
        (
            "balanced sum of 2,048 where(a<k,..)",
            balanced(11, "where(a<0.5,a*", ",a+1)"),
        ),
        ("1,024 nested sums", nested("sum(", ")", vexpr::MAX_STAGES)),
        ("1,024 added sums of products", {
            let terms: Vec<String> = (0..vexpr::MAX_STAGES)
                .map(|i| format!("sum(a*{i})"))
                .collect();
            terms.join("+")
        }),
        (
            "9,999 unary minuses",
            format!("{}a", "-".repeat(nesting - 1)),
        ),
        ("9,998 powers", format!("a{}", "**a".repeat(nesting - 2))),
        ("9,999 additions", format!("a{}", "+a".repeat(nesting - 1))),
        ("10,000 brackets", nested("(", ")", nesting)),
        (
            "1 MiB of spaces around a",
            format!("{}a", " ".repeat(vexpr::MAX_SOURCE_LEN - 1)),
        ),
        // Refused.
        (
            "1 MiB of unary minuses (refused)",
            format!("{}a", "-".repeat(vexpr::MAX_SOURCE_LEN - 1)),
        ),
        (
            "1 MiB of brackets (refused)",
            nested("(", ")", vexpr::MAX_SOURCE_LEN / 2 - 1),
        ),
        (
            "1 MiB of a+a+... (refused)",
            format!("a{}", "+a".repeat(vexpr::MAX_SOURCE_LEN / 2 - 1)),
        ),
        (
            "balanced sum of 16,384 products (refused)",
            balanced(14, "a*", ""),
        ),
        (
            "2,048 nested sums (refused)",
            nested("sum(", ")", 2 * vexpr::MAX_STAGES),
        ),
        (
            "2 MiB (refused)",
            format!("{}a", " ".repeat(2 * vexpr::MAX_SOURCE_LEN)),
        ),
    ]
}

fn nested(open: &str, close: &str, depth: usize) -> String {
    format!("{}a{}", open.repeat(depth), close.repeat(depth))
}

/// A balanced tree of additions over `2^levels` distinct leaves `{pre}{k}{post}`.
fn balanced(levels: u32, pre: &str, post: &str) -> String {
    fn grow(levels: u32, next: &mut usize, pre: &str, post: &str, out: &mut String) {
        if levels == 0 {
            *next += 1;
            out.push_str(&format!("{pre}{next}{post}"));
            return;
        }
        out.push('(');
        grow(levels - 1, next, pre, post, out);
        out.push('+');
        grow(levels - 1, next, pre, post, out);
        out.push(')');
    }
    let mut out = String::new();
    grow(levels, &mut 0, pre, post, &mut out);
    out
}

/// Peak resident memory of this process, in KiB (Linux).
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn measure(index: usize) {
    let (name, text) = &shapes()[index];
    let signature = Signature::new().with("a", DType::Float64);
    let before = peak_kib().unwrap_or(0);
    let mut times: Vec<Duration> = Vec::new();
    let mut outcome = String::new();
    for _ in 0..5 {
        let start = Instant::now();
        let result = Expr::compile(text, &signature);
        times.push(start.elapsed());
        outcome = match result {
            Ok(expr) => format!("compiled, {} stages", vexpr::unstable::stages(&expr).len()),
            Err(e) => format!("{:?}: {}", e.kind(), e.message()),
        };
    }
    times.sort();
    let after = peak_kib().unwrap_or(0);
    println!(
        "{name:<40} {:>8} bytes {:>9.2} ms {:>7.1} MiB  {outcome}",
        text.len(),
        times[2].as_secs_f64() * 1e3,
        after.saturating_sub(before) as f64 / 1024.0,
    );
}

fn main() {
    if let Some(index) = std::env::args().nth(1) {
        measure(index.parse().expect("a shape number"));
        return;
    }
    println!(
        "{:<40} {:>14} {:>12} {:>11}  outcome",
        "shape", "text", "median", "peak RSS+"
    );
    let exe = std::env::current_exe().expect("this program's path");
    for index in 0..shapes().len() {
        let status = Command::new(&exe).arg(index.to_string()).status();
        if !status.as_ref().is_ok_and(|s| s.success()) {
            println!("shape {index} failed: {status:?}");
        }
    }
}
