//! The session: the variables, the thread count, and what each line does.
//!
//! A line is one of
//! - empty or a `#` comment: nothing;
//! - `:command arguments`: see [`COMMANDS`];
//! - `name = right side`: a generator call (see [`super::generators`]) or any
//!   vexpr expression, whose value the name then holds;
//! - an expression: evaluated and printed as NumPy prints arrays.
//!
//! Everything that can take long (generators, evaluations, `:time`) runs as a
//! job on a worker thread ([`super::interrupt`]), so Ctrl-C can abandon it.
//! Jobs get a snapshot of the variables (`Arc`s, no copies) and hand back a
//! value; only this thread changes the variables, so an abandoned job loses
//! nothing. Every error is rendered against the line as typed, with a caret
//! under the place it is about.

use super::generators::{self, Plan};
use super::interrupt::{self, Outcome};
use super::timing;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use vexpr::unstable::{REDUCTIONS, TABLE};
use vexpr::{Array, Env, Error, ErrorKind, Expr, Options, Signature, Span};

/// The commands: name, arguments, what it does, an example. `:help` prints
/// this table and completion offers the names.
pub const COMMANDS: [(&str, &str, &str, &str); 10] = [
    (
        "dis",
        "EXPR",
        "show the bytecode: registers with types, then instructions",
        ":dis 2*a + 3*b",
    ),
    (
        "time",
        "EXPR",
        "time vexpr against the naive way (one full-size temporary per operation)",
        ":time 2*a**3 - 4*a**5 + 6*log(a)",
    ),
    (
        "type",
        "EXPR",
        "the result's dtype and shape, without evaluating",
        ":type a > 0.5",
    ),
    (
        "vars",
        "",
        "list the variables with dtype, shape and memory",
        ":vars",
    ),
    (
        "del",
        "NAME...",
        "forget variables (and free their memory)",
        ":del a b",
    ),
    (
        "threads",
        "[N]",
        "show or set the number of threads",
        ":threads 4",
    ),
    (
        "save",
        "NAME FILE",
        "write a variable to a .npy file",
        ":save d d.npy",
    ),
    ("help", "", "this list", ":help"),
    ("quit", "", "leave (so does Ctrl-D)", ":quit"),
    ("exit", "", "the same as :quit", ":exit"),
];

/// The generators: call, what it makes, an example.
const GENERATORS: [(&str, &str, &str); 7] = [
    (
        "linspace(start, stop, num=50)",
        "num evenly spaced float64 values, both ends included",
        "a = linspace(0, 1, 1_000_000)",
    ),
    (
        "random(shape, seed=None)",
        "uniform float64 values in [0, 1)",
        "b = random(1e6)",
    ),
    (
        "arange([start,] stop[, step], dtype=None)",
        "start, start+step, ... below stop (int64 for integers)",
        "i = arange(10)",
    ),
    (
        "zeros(shape, dtype=\"float64\")",
        "an array of 0",
        "z = zeros((3, 4))",
    ),
    (
        "ones(shape, dtype=\"float64\")",
        "an array of 1",
        "o = ones(5, dtype=\"int32\")",
    ),
    (
        "full(shape, fill_value, dtype=None)",
        "an array of one value (int64 for an integer)",
        "f = full(10, 2.5)",
    ),
    (
        "load(file)",
        "the array in a .npy file",
        "c = load(\"x.npy\")",
    ),
];

/// The most threads `:threads` accepts: the library's own limit.
const MAX_THREADS: usize = vexpr::MAX_THREADS;

/// The seed of the session's stream of seeds for `random` calls without
/// one: a script gives the same numbers on every run.
const SESSION_SEED: u64 = 20_240_601;

/// What a line gives when it succeeds.
#[derive(Debug, PartialEq)]
pub enum Reply {
    /// Text to print on standard output.
    Text(String),
    /// Nothing to print (an assignment, a comment, an empty line).
    Nothing,
    /// Leave the REPL.
    Quit,
}

/// Why a line failed.
#[derive(Debug, PartialEq)]
pub enum Failure {
    /// An error, rendered (with a caret where there is a place to point at).
    Error(String),
    /// Ctrl-C abandoned the job.
    Interrupted,
}

/// Variables and settings of one REPL.
pub struct Session {
    vars: BTreeMap<String, Arc<Array>>,
    threads: usize,
    seeds: StdRng,
}

/// The error rendered against `line`, its span moved by `at` (the offset in
/// the line of the text it was made for).
fn fail_at(error: &Error, line: &str, at: usize) -> Failure {
    let span = Span::new(error.span().start + at, error.span().end + at);
    Failure::Error(Error::new(error.kind(), span, error.message()).render(line))
}

/// An error at `span` of `line`.
fn fail(line: &str, span: Span, message: impl Into<String>) -> Failure {
    Failure::Error(Error::new(ErrorKind::Input, span, message).render(line))
}

/// An error with no place in the line (files, memory).
fn fail_plain(message: impl std::fmt::Display) -> Failure {
    Failure::Error(format!("error: {message}"))
}

/// Runs a job on the worker thread (see [`super::interrupt`]).
fn job<T: Send + 'static>(
    work: impl FnOnce(&interrupt::Cancel) -> T + Send + 'static,
) -> Result<T, Failure> {
    match interrupt::run(work) {
        Outcome::Done(value) => Ok(value),
        Outcome::Interrupted => Err(Failure::Interrupted),
        Outcome::Panicked => Err(fail_plain(
            "internal error: the evaluation panicked (its message is above)",
        )),
    }
}

/// The bindings of a snapshot of the variables.
fn env_of(vars: &[(String, Arc<Array>)]) -> Env<'_> {
    let mut env = Env::new();
    for (name, value) in vars {
        env.set(name, &**value);
    }
    env
}

/// A size in bytes, in binary units: `7.6 MiB`.
pub fn human_bytes(bytes: usize) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Length of the identifier at the start of `text` (vexpr's rule:
/// `[A-Za-z_][A-Za-z0-9_]*`).
pub fn identifier_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    if !bytes
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        return 0;
    }
    bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count()
}

/// `name = ...` (but not `name == ...`): the name's span and where the right
/// side starts.
fn assignment(line: &str) -> Option<(Span, usize)> {
    let start = line.len() - line.trim_start().len();
    let len = identifier_len(&line[start..]);
    if len == 0 {
        return None;
    }
    let after = &line[start + len..];
    let eq = start + len + (after.len() - after.trim_start().len());
    (line[eq..].starts_with('=') && !line[eq..].starts_with("=="))
        .then(|| (Span::new(start, start + len), eq + 1))
}

/// Levenshtein distance, for "did you mean" on command names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            current[j + 1] = (previous[j] + usize::from(ca != cb))
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// `:help`'s text.
fn help() -> String {
    let mut out = String::from(
        "Lines are expressions (printed), assignments, or commands.\n\
         \n  EXPR                evaluate and print          2*a**3 - 4*a**5 + 6*log(a)\
         \n  NAME = EXPR         define a variable           d = 2*a + 3*b\
         \n  NAME = GENERATOR    make an array (see below)   a = linspace(0, 1, 1_000_000)\n\
         \nCommands:\n",
    );
    for (name, args, what, example) in COMMANDS {
        let call = format!(":{name} {args}");
        out.push_str(&format!(
            "  {call:<18}  {what}\n  {:<18}    e.g. {example}\n",
            ""
        ));
    }
    out.push_str("\nGenerators (alone on the right of `=`, with literal arguments; a shape is n or (n, m, ...)):\n");
    for (call, what, example) in GENERATORS {
        out.push_str(&format!(
            "  {call:<42}  {what}\n  {:<42}    e.g. {example}\n",
            ""
        ));
    }
    out.push_str(
        "\nTab completes commands, variables and functions. Ctrl-C clears the line or interrupts\n\
         a long evaluation; variables are kept. Lines starting with # are comments.",
    );
    out
}

impl Session {
    /// A session without variables, evaluating on `threads` threads.
    pub fn new(threads: usize) -> Session {
        Session {
            vars: BTreeMap::new(),
            threads: threads.clamp(1, MAX_THREADS),
            seeds: StdRng::seed_from_u64(SESSION_SEED),
        }
    }

    /// The variables' names, for completion.
    pub fn variable_names(&self) -> Vec<String> {
        self.vars.keys().cloned().collect()
    }

    /// The variables, for a job.
    fn snapshot(&self) -> Vec<(String, Arc<Array>)> {
        self.vars
            .iter()
            .map(|(n, v)| (n.clone(), Arc::clone(v)))
            .collect()
    }

    fn options(&self) -> Options {
        Options::default().with_threads(self.threads)
    }

    /// Runs one line.
    pub fn execute(&mut self, line: &str) -> Result<Reply, Failure> {
        let body = line.trim();
        if body.is_empty() || body.starts_with('#') {
            return Ok(Reply::Nothing);
        }
        if body.starts_with(':') {
            return self.command(line);
        }
        if let Some((name, rhs_at)) = assignment(line) {
            return self.assign(line, name, rhs_at);
        }
        let array = self.evaluate(line, 0)?;
        Ok(Reply::Text(crate::format::format_array(&array)))
    }

    /// Compiles the expression `line[at..]` for the current variables.
    fn compile(&self, line: &str, at: usize) -> Result<Expr, Failure> {
        let vars = self.snapshot();
        Expr::compile(&line[at..], &Signature::of(&env_of(&vars))).map_err(|e| {
            // A generator used inside an expression is an unknown function
            // to vexpr; say what to do instead.
            let name = line.get(at + e.span().start..at + e.span().end).unwrap_or_default();
            if e.kind() == ErrorKind::UnknownFunction && generators::NAMES.contains(&name) {
                let hint = format!("`{name}` makes an array only alone on the right of `=`: `x = {name}(...)`, then use `x`");
                return fail_at(&Error::new(e.kind(), e.span(), hint), line, at);
            }
            fail_at(&e, line, at)
        })
    }

    /// Evaluates the expression `line[at..]` on the worker thread.
    fn evaluate(&self, line: &str, at: usize) -> Result<Array, Failure> {
        let expr = self.compile(line, at)?;
        let vars = self.snapshot();
        let options = self.options();
        job(move |_| expr.eval_with(&env_of(&vars), options))?.map_err(|e| fail_at(&e, line, at))
    }

    fn assign(&mut self, line: &str, name_span: Span, rhs_at: usize) -> Result<Reply, Failure> {
        let name = &line[name_span.start..name_span.end];
        let reserved =
            if TABLE.get(name).is_some_and(|f| f.is_callable()) || REDUCTIONS.contains(&name) {
                Some("a function")
            } else if generators::NAMES.contains(&name) {
                Some("a generator")
            } else if ["True", "False", "None"].contains(&name) {
                Some("a constant")
            } else {
                None
            };
        if let Some(what) = reserved {
            return Err(fail(
                line,
                name_span,
                format!("`{name}` is {what}; a variable cannot take its name"),
            ));
        }
        let array = match generators::parse(&line[rhs_at..], rhs_at) {
            Some(plan) => {
                let mut plan = plan.map_err(|e| fail_at(&e, line, 0))?;
                if matches!(plan, Plan::Random { seed: None, .. }) {
                    plan = plan.with_seed(self.seeds.random());
                }
                job(move |_| plan.run())?.map_err(fail_plain)?
            }
            None => self.evaluate(line, rhs_at)?,
        };
        self.vars.insert(name.to_string(), Arc::new(array));
        Ok(Reply::Nothing)
    }

    fn command(&mut self, line: &str) -> Result<Reply, Failure> {
        // Called only for a line whose body starts with ':'.
        let colon = line.find(':').expect("the caller saw the colon");
        let word_len = line[colon + 1..]
            .find(char::is_whitespace)
            .unwrap_or(line.len() - colon - 1);
        let word = &line[colon + 1..colon + 1 + word_len];
        let word_span = Span::new(colon, colon + 1 + word_len);
        let rest = &line[colon + 1 + word_len..];
        let args_at = line.len() - rest.trim_start().len();
        let args = line[args_at..].trim_end();
        let no_args = |name: &str| -> Result<(), Failure> {
            if args.is_empty() {
                Ok(())
            } else {
                Err(fail(
                    line,
                    Span::new(args_at, args_at + args.len()),
                    format!("`:{name}` takes no arguments"),
                ))
            }
        };
        let needs_expr = |name: &str, example: &str| -> Result<(), Failure> {
            if args.is_empty() {
                Err(fail(
                    line,
                    word_span,
                    format!("`:{name}` needs an expression, like `{example}`"),
                ))
            } else {
                Ok(())
            }
        };
        match word {
            "dis" => {
                needs_expr("dis", ":dis 2*a + 3*b")?;
                let expr = self.compile(line, args_at)?;
                Ok(Reply::Text(expr.to_string().trim_end().to_string()))
            }
            "type" => {
                needs_expr("type", ":type a > 0.5")?;
                let expr = self.compile(line, args_at)?;
                let vars = self.snapshot();
                let shape = expr
                    .result_shape(&env_of(&vars))
                    .map_err(|e| fail_at(&e, line, args_at))?;
                Ok(Reply::Text(format!(
                    "{}, shape {}",
                    expr.result_dtype(),
                    crate::npy::shape_text(&shape)
                )))
            }
            "time" => {
                needs_expr("time", ":time 2*a + 3*b")?;
                self.time(line, args_at)
            }
            "vars" => {
                no_args("vars")?;
                Ok(Reply::Text(self.vars_table()))
            }
            "del" => self.delete(line, args_at),
            "threads" => self.set_threads(line, args_at),
            "save" => self.save(line, args_at),
            "help" | "h" | "?" => {
                no_args(word)?;
                Ok(Reply::Text(help()))
            }
            "quit" | "q" | "exit" => {
                no_args(word)?;
                Ok(Reply::Quit)
            }
            _ => {
                let names = COMMANDS.iter().map(|c| c.0);
                let near = names
                    .clone()
                    .filter(|c| edit_distance(c, word) <= 2)
                    .min_by_key(|c| edit_distance(c, word));
                let list: Vec<String> = names.map(|c| format!(":{c}")).collect();
                let message = match near {
                    Some(c) => format!("unknown command `:{word}`; did you mean `:{c}`?"),
                    None => format!(
                        "unknown command `:{word}` (the commands are {})",
                        list.join(" ")
                    ),
                };
                Err(fail(line, word_span, message))
            }
        }
    }

    fn time(&self, line: &str, at: usize) -> Result<Reply, Failure> {
        let expr = self.compile(line, at)?;
        let vars = self.snapshot();
        // Shapes are checked here, so that a mistake gets its caret.
        let shape = expr
            .result_shape(&env_of(&vars))
            .map_err(|e| fail_at(&e, line, at))?;
        if shape.contains(&0) {
            return Err(fail(
                line,
                Span::new(at, line.trim_end().len()),
                "nothing to time: the result has no elements",
            ));
        }
        let threads = self.threads;
        match job(move |cancel| timing::measure(&expr, &vars, &shape, threads, cancel))? {
            Ok(Some(report)) => Ok(Reply::Text(report.to_string())),
            Ok(None) => Err(Failure::Interrupted),
            Err(message) => Err(fail_plain(message)),
        }
    }

    fn vars_table(&self) -> String {
        if self.vars.is_empty() {
            return "no variables yet; make one with `a = linspace(0, 1, 1_000_000)`".to_string();
        }
        let rows: Vec<[String; 4]> = self
            .vars
            .iter()
            .map(|(name, a)| {
                [
                    name.clone(),
                    a.dtype().to_string(),
                    crate::npy::shape_text(a.shape()),
                    human_bytes(a.len() * a.dtype().itemsize()),
                ]
            })
            .collect();
        let header = ["name", "dtype", "shape", "memory"].map(String::from);
        let mut widths = [0usize; 4];
        for row in std::iter::once(&header).chain(&rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let total: usize = self
            .vars
            .values()
            .map(|a| a.len() * a.dtype().itemsize())
            .sum();
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            let line = format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push_str(&format!(
            "{} variable{}, {} in all",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            human_bytes(total)
        ));
        out
    }

    /// The words of `line[at..]` with their spans.
    fn words(line: &str, at: usize) -> Vec<(&str, Span)> {
        let mut words = Vec::new();
        let mut start = None;
        for (i, c) in line[at..]
            .char_indices()
            .chain(std::iter::once((line.len() - at, ' ')))
        {
            match (c.is_whitespace(), start) {
                (false, None) => start = Some(i),
                (true, Some(s)) => {
                    words.push((&line[at + s..at + i], Span::new(at + s, at + i)));
                    start = None;
                }
                _ => {}
            }
        }
        words
    }

    fn delete(&mut self, line: &str, at: usize) -> Result<Reply, Failure> {
        let words = Session::words(line, at);
        if words.is_empty() {
            return Err(fail(
                line,
                Span::new(at, at),
                "`:del` needs variable names, like `:del a b`",
            ));
        }
        // All names are checked before any is removed.
        if let Some((name, span)) = words.iter().find(|(n, _)| !self.vars.contains_key(*n)) {
            return Err(fail(line, *span, format!("no variable `{name}`")));
        }
        for (name, _) in words {
            self.vars.remove(name);
        }
        Ok(Reply::Nothing)
    }

    fn set_threads(&mut self, line: &str, at: usize) -> Result<Reply, Failure> {
        let words = Session::words(line, at);
        match words.as_slice() {
            [] => {}
            [(n, span)] => match n.replace('_', "").parse::<usize>() {
                Ok(n) if (1..=MAX_THREADS).contains(&n) => self.threads = n,
                _ => {
                    let message = format!(
                        "the number of threads must be a whole number from 1 to {MAX_THREADS}"
                    );
                    return Err(fail(line, *span, message));
                }
            },
            [_, (_, span), ..] => {
                let span = span.to(words[words.len() - 1].1);
                return Err(fail(line, span, "`:threads` takes one number"));
            }
        }
        let cores = vexpr::num_threads();
        Ok(Reply::Text(format!(
            "threads: {} (default here: {cores})",
            self.threads
        )))
    }

    fn save(&self, line: &str, at: usize) -> Result<Reply, Failure> {
        let name_len = line[at..]
            .find(char::is_whitespace)
            .unwrap_or(line.len() - at);
        let name = &line[at..at + name_len];
        let name_span = Span::new(at, at + name_len);
        let path = line[at + name_len..].trim();
        // The file may be quoted, for names with spaces.
        let path = match path.as_bytes() {
            [q @ (b'"' | b'\''), .., last] if q == last && path.len() >= 2 => {
                &path[1..path.len() - 1]
            }
            _ => path,
        };
        if name.is_empty() || path.is_empty() {
            return Err(fail(
                line,
                Span::new(at, line.trim_end().len()),
                "`:save` needs a variable and a file, like `:save d d.npy`",
            ));
        }
        let Some(array) = self.vars.get(name) else {
            return Err(fail(line, name_span, format!("no variable `{name}`")));
        };
        crate::npy::write(Path::new(path), array).map_err(fail_plain)?;
        Ok(Reply::Text(format!(
            "saved `{name}` ({}, shape {}) to {path}",
            array.dtype(),
            crate::npy::shape_text(array.shape())
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(session: &mut Session, line: &str) -> String {
        match session.execute(line) {
            Ok(Reply::Text(t)) => t,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn error(session: &mut Session, line: &str) -> String {
        match session.execute(line) {
            Err(Failure::Error(e)) => e,
            other => panic!("{line}: {other:?}"),
        }
    }

    /// The column of the first caret and the number of carets.
    fn caret(rendered: &str, line: &str) -> (usize, usize) {
        let lines: Vec<&str> = rendered.lines().collect();
        let code = lines
            .iter()
            .find(|l| l.ends_with(line.trim_end()))
            .expect("the line is shown");
        let carets = lines.iter().find(|l| l.contains('^')).expect("a caret");
        let origin = code.len() - line.trim_end().len();
        (
            carets.find('^').unwrap() - origin,
            carets.matches('^').count(),
        )
    }

    #[test]
    fn lines_are_classified() {
        assert_eq!(assignment("a = 1"), Some((Span::new(0, 1), 3)));
        assert_eq!(assignment("  long_name=2*b"), Some((Span::new(2, 11), 12)));
        assert_eq!(assignment("a == 1"), None);
        assert_eq!(assignment("2 = a"), None);
        assert_eq!(identifier_len("_x1 + 2"), 3);
    }

    #[test]
    fn assignments_and_expressions() {
        let mut s = Session::new(1);
        assert_eq!(s.execute("a = arange(4)"), Ok(Reply::Nothing));
        assert_eq!(s.execute("b = 2*a + 1"), Ok(Reply::Nothing));
        assert_eq!(s.vars["b"].as_slice::<i64>().unwrap(), &[1, 3, 5, 7]);
        assert_eq!(s.execute("# a comment"), Ok(Reply::Nothing));
        assert_eq!(s.execute("   "), Ok(Reply::Nothing));
        assert_eq!(text(&mut s, ":type b > 2"), "bool, shape (4,)");
        assert!(text(&mut s, ":dis 2*a + 1").contains("code:"));
        assert!(text(&mut s, ":vars").contains("2 variables, 64 B in all"));
        assert_eq!(s.execute(":quit"), Ok(Reply::Quit));
    }

    #[test]
    fn errors_point_into_the_line() {
        let mut s = Session::new(1);
        s.execute("a = ones(3)").unwrap();
        let line = "d = 2*a + 3*bb";
        assert_eq!(caret(&error(&mut s, line), line), (12, 2));
        let line = "sin = 2*a";
        assert_eq!(caret(&error(&mut s, line), line), (0, 3));
        let line = ":tim 2*a";
        let e = error(&mut s, line);
        assert!(e.contains("did you mean `:time`"), "{e}");
        let line = "x = 2*zeros(3)";
        assert!(error(&mut s, line).contains("alone on the right of `=`"));
        let line = "z = zeros(3, dtype='int8')";
        assert_eq!(caret(&error(&mut s, line), line).0, 19);
        let line = ":save nothing here.npy";
        assert_eq!(caret(&error(&mut s, line), line), (6, 7));
        let line = ":threads 0";
        assert_eq!(caret(&error(&mut s, line), line), (9, 1));
        let line = ":del a q";
        assert_eq!(caret(&error(&mut s, line), line), (7, 1));
        assert!(
            s.vars.contains_key("a"),
            "nothing is deleted when a name is wrong"
        );
    }

    #[test]
    fn threads_and_del() {
        let mut s = Session::new(2);
        assert!(text(&mut s, ":threads").starts_with("threads: 2"));
        assert!(text(&mut s, ":threads 3").starts_with("threads: 3"));
        s.execute("a = zeros(2)").unwrap();
        s.execute(":del a").unwrap();
        assert!(s.vars.is_empty());
    }

    #[test]
    fn help_names_every_command() {
        let h = help();
        for (name, ..) in COMMANDS {
            assert!(h.contains(&format!(":{name}")), "{name}");
        }
        for name in generators::NAMES {
            assert!(h.contains(&format!("{name}(")), "{name}");
        }
    }

    #[test]
    fn sizes_in_binary_units() {
        assert_eq!(human_bytes(100), "100 B");
        assert_eq!(human_bytes(8_000_000), "7.6 MiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
