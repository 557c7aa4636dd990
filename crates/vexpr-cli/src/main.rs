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
//! This file parses the arguments (clap), runs the command, and prints what
//! it gives: a command returns its stdout text (if any) or a [`Failure`].
//! Exit status: 0 on success; 1 when evaluation fails or a file cannot be
//! read or written (the message on stderr, with a caret under the place for
//! expression errors); 2 for a usage error. `VEXPR_CPU` naming a level this
//! CPU lacks, or no level, is an error (status 1) of every command. Results go to stdout, everything
//! else to stderr. `npy`, `format` and `value` are shared with the REPL.

// Everything unsafe lives in the library, where each use is argued.
#![forbid(unsafe_code)]

mod bench;
mod dis;
mod eval;
mod files;
mod format;
mod repl;
mod value;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;
// The `.npy` reader and writer are in the library target (`src/lib.rs`),
// where the fuzz targets can reach them; `crate::npy` names them here.
use vexpr_cli::npy;

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
    // The library would only warn about a level this CPU lacks; a command
    // asked for it explicitly, so it is an error here.
    if let Err(message) = vexpr::cpu_level_from_env() {
        return Failure::Message(message).report();
    }
    let outcome = match cli.command {
        None => return repl::run(None),
        Some(Command::Repl(args)) => return repl::run(args.threads),
        Some(Command::Eval(args)) => eval::run(&args),
        Some(Command::Dis(args)) => dis::run(&args),
        Some(Command::Bench(args)) => bench::run(&args),
    };
    match outcome {
        Ok(Some(text)) => print(&text),
        Ok(None) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// Why a command failed; each kind is reported with its exit status.
#[derive(Debug)]
enum Failure {
    /// Text that is already a full report, such as an expression error
    /// rendered with a caret under the place (status 1).
    Rendered(String),
    /// Anything else that went wrong, reported as `error: MESSAGE` (status 1).
    Message(String),
    /// A usage error that clap cannot see, such as a name given twice (status 2).
    Usage(String),
}

impl From<vexpr::Error> for Failure {
    fn from(err: vexpr::Error) -> Self {
        // Errors about an expression carry it: rendered with the caret.
        Failure::Rendered(err.rendered())
    }
}

impl Failure {
    /// Prints the failure on stderr and gives the exit status.
    fn report(&self) -> ExitCode {
        match self {
            Failure::Rendered(text) => eprintln!("{}", text.trim_end()),
            Failure::Message(message) => eprintln!("error: {message}"),
            Failure::Usage(message) => {
                // As clap words its own usage errors.
                eprintln!("error: {message}\n\nFor more information, try '--help'.");
                return ExitCode::from(2);
            }
        }
        ExitCode::FAILURE
    }
}

/// Most worker threads `--threads` accepts: the library's own limit.
const MAX_THREADS: usize = vexpr::MAX_THREADS;

/// Parses `--threads`: a whole number from 1 to [`MAX_THREADS`].
fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from 1 to {MAX_THREADS}")),
    }
}

/// The names of the variables `expr` reads, sorted.
fn variables(expr: &str) -> Result<Vec<String>, Failure> {
    Ok(vexpr::variable_names(expr)?)
}

/// Refuses a variable bound twice (`a=1 a=2`), which is surely a slip.
fn check_unique(bindings: &[value::Binding]) -> Result<(), Failure> {
    for (i, b) in bindings.iter().enumerate() {
        if bindings[..i].iter().any(|earlier| earlier.name == b.name) {
            return Err(Failure::Usage(format!(
                "`{}` is given more than once",
                b.name
            )));
        }
    }
    Ok(())
}

/// `len` copies of `value`, or a message when memory runs out, where an
/// ordinary allocation would abort the process.
fn try_filled<T: Clone>(value: T, len: usize) -> Result<Vec<T>, Failure> {
    vexpr::unstable::try_filled(value, len)
        .ok_or_else(|| Failure::Message(format!("cannot allocate {len} elements")))
}

/// Prints a result on stdout. A closed pipe (`vexpr eval ... | head`) is not
/// worth a message, but still fails the command.
fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::FAILURE,
        Err(e) => Failure::Message(format!("cannot write the output: {e}")).report(),
    }
}
