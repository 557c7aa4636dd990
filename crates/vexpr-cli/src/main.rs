//! The `vexpr` command: evaluate, disassemble and benchmark array expressions,
//! or explore them in a REPL.
//!
//! ```text
//! vexpr eval EXPR NAME=VALUE ... [-o OUT.npy] [--threads N]   (src/eval.rs)
//! vexpr dis EXPR [NAME=VALUE ...]                             (src/dis.rs)
//! vexpr bench EXPR [--n N] [--threads T] [--repeat R] [--json] (src/bench.rs)
//! vexpr repl [--threads N]   or just   vexpr                   (src/repl/)
//! ```
//!
//! This file parses the arguments (clap) and holds what the commands share:
//! how they report failures and print results. Exit status: 0 on success, 1
//! when evaluation fails or a file cannot be read or written (the message on
//! stderr, with a caret under the place for expression errors), 2 for a usage
//! error. Results go to stdout, everything else to stderr.

mod bench;
mod dis;
mod eval;
mod format;
mod npy;
mod repl;
mod value;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

/// Evaluate, disassemble and benchmark array expressions like
/// `2*a**3 - 4*a**5 + 6*log(a)` (numexpr's language). With no command, start the REPL.
#[derive(Debug, Parser)]
#[command(name = "vexpr", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate EXPR with variables from .npy files or numbers; print the
    /// result or write it to a .npy file
    Eval(eval::Args),
    /// Print the bytecode EXPR compiles to (variables are float64 unless given)
    Dis(dis::Args),
    /// Time EXPR on random float64 inputs
    Bench(bench::Args),
    /// Start the interactive REPL (the default with no command)
    Repl(ReplArgs),
}

/// The arguments of `vexpr repl`.
#[derive(Debug, clap::Args)]
struct ReplArgs {
    /// Worker threads (default: VEXPR_NUM_THREADS or the number of cores)
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    threads: Option<usize>,
}

fn main() -> ExitCode {
    // clap exits with status 2 on a usage error and 0 for --help/--version.
    let cli = Cli::parse();
    match cli.command {
        None => repl::run(None),
        Some(Command::Repl(args)) => repl::run(args.threads),
        Some(Command::Eval(args)) => eval::run(&args),
        Some(Command::Dis(args)) => dis::run(&args),
        Some(Command::Bench(args)) => bench::run(&args),
    }
}

/// Most worker threads `--threads` accepts: far beyond any core count, low
/// enough that a typo cannot ask the system for millions of threads.
const MAX_THREADS: usize = 1024;

/// Parses `--threads`: a whole number from 1 to [`MAX_THREADS`].
fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from 1 to {MAX_THREADS}")),
    }
}

/// The first variable name that is bound twice.
fn duplicate_name(bindings: &[value::Binding]) -> Option<&str> {
    bindings
        .iter()
        .enumerate()
        .find(|(i, b)| bindings[..*i].iter().any(|earlier| earlier.name == b.name))
        .map(|(_, b)| b.name.as_str())
}

/// Prints a result line on stdout. A closed pipe (`vexpr eval ... | head`) is
/// not worth a message, but still fails the command.
fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::FAILURE,
        Err(e) => failure(&format!("cannot write the output: {e}")),
    }
}

/// Reports an expression error (its `Display` shows the caret) and gives status 1.
fn eval_error(err: &vexpr::Error) -> ExitCode {
    failure_text(&err.to_string())
}

/// Reports a failure as `error: MESSAGE` and gives status 1.
fn failure(message: &str) -> ExitCode {
    failure_text(&format!("error: {message}"))
}

/// Prints already formatted error text and gives status 1.
fn failure_text(text: &str) -> ExitCode {
    eprintln!("{}", text.trim_end());
    ExitCode::FAILURE
}

/// Reports a usage error found after argument parsing, and gives status 2 as clap does.
fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}\n\nFor more information, try '--help'.");
    ExitCode::from(2)
}
