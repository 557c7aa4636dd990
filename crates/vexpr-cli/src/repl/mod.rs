//! The REPL: `vexpr` with no arguments (or `vexpr repl`).
//!
//! A session holds named arrays, made by generators (`a = linspace(0, 1,
//! 1_000_000)`, `b = random(1e6)`), read from `.npy` files (`c = load("x.npy")`)
//! or computed (`d = 2*a + 3*b`); bare expressions are evaluated and printed as
//! NumPy prints arrays; `:commands` show bytecode, time an expression against
//! the naive way, show types, list variables, set threads and save `.npy`
//! files. The user's reference is `docs/repl.md`.
//!
//! Two front ends share one [`session::Session`]:
//! - on a terminal, rustyline edits lines, keeps history across runs (in
//!   `dirs::data_dir()/vexpr/history.txt`), and completes names with Tab;
//! - otherwise (a pipe or a file on standard input) lines are read plainly and
//!   nothing but results goes to standard output (no prompt, no banner, no
//!   escape codes), so the REPL can be scripted. Errors go to standard error,
//!   prefixed with their line number, and the script goes on; the exit code
//!   is 0 when every line succeeded and 1 otherwise, or 130 if Ctrl-C stopped
//!   it.
//!
//! Modules: [`session`] runs a line, [`generators`] parses and runs the data
//! generators, [`timing`] is `:time`, [`interrupt`] runs long work on a worker
//! thread that Ctrl-C can abandon, [`complete`] is Tab completion.

mod complete;
mod generators;
mod interrupt;
pub(crate) mod session;
mod timing;

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};
use session::{Failure, Reply, Session};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The interactive prompt.
const PROMPT: &str = "vexpr> ";

/// Lines of history kept on disk.
const HISTORY_LINES: usize = 10_000;

/// Runs the REPL until `:quit` or the end of input. `threads` is the thread
/// count to start with (the default: all cores, or `VEXPR_NUM_THREADS`).
pub fn run(threads: Option<usize>) -> ExitCode {
    let session = Session::new(threads.unwrap_or_else(vexpr::num_threads));
    if std::io::stdin().is_terminal() {
        interactive(session)
    } else {
        script(session)
    }
}

/// The history file, its folder created; `None` when there is no data
/// folder or it cannot be made (history is then simply not kept).
fn history_file() -> Option<PathBuf> {
    let folder = dirs::data_dir()?.join("vexpr");
    std::fs::create_dir_all(&folder).ok()?;
    Some(folder.join("history.txt"))
}

/// Prints a result on standard output; false when it cannot be written
/// (`println!` would panic on a closed pipe).
fn emit(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").and_then(|()| out.flush()).is_ok()
}

fn interactive(mut session: Session) -> ExitCode {
    interrupt::install(false);
    let config = Config::builder()
        .max_history_size(HISTORY_LINES)
        .and_then(|c| c.history_ignore_dups(true))
        .map(|c| {
            c.history_ignore_space(true)
                .completion_type(CompletionType::List)
                .build()
        })
        .unwrap_or_default();
    let mut editor = match Editor::<complete::ReplHelper, DefaultHistory>::with_config(config) {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("warning: no line editing here ({e}); reading plain lines");
            return script(session);
        }
    };
    editor.set_helper(Some(complete::ReplHelper::default()));
    let history = history_file();
    if let Some(path) = &history {
        // A missing or unreadable history is not worth a word.
        let _ = editor.load_history(path);
    }
    println!(
        "vexpr {}: type an expression, `name = ...`, or :help. Tab completes, Ctrl-D leaves.",
        env!("CARGO_PKG_VERSION")
    );
    loop {
        if let Some(helper) = editor.helper_mut() {
            helper.set_variables(session.variable_names());
        }
        let line = match editor.readline(PROMPT) {
            Ok(line) => line,
            // Ctrl-C at the prompt: rustyline has dropped the line; start a new one.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: cannot read the terminal: {e}");
                return ExitCode::FAILURE;
            }
        };
        if !line.trim().is_empty() {
            let _ = editor.add_history_entry(line.as_str());
            // Appended at once, so that a crash or a closed window keeps it,
            // and so that two sessions at once both keep theirs.
            if let Some(path) = &history {
                let _ = editor.append_history(path);
            }
        }
        match session.execute(&line) {
            Ok(Reply::Text(text)) => {
                if !emit(&text) {
                    return ExitCode::FAILURE;
                }
            }
            Ok(Reply::Nothing) => {}
            Ok(Reply::Quit) => break,
            Err(Failure::Error(message)) => eprintln!("{message}"),
            Err(Failure::Interrupted) => eprintln!("interrupted"),
        }
    }
    ExitCode::SUCCESS
}

fn script(mut session: Session) -> ExitCode {
    interrupt::install(true);
    let mut failed = false;
    for (index, line) in std::io::stdin().lock().lines().enumerate() {
        let number = index + 1;
        let line = match line {
            Ok(line) => line,
            // A line that is not UTF-8 fails alone; a read error ends the input.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                eprintln!("line {number}: error: the line is not UTF-8 text");
                failed = true;
                continue;
            }
            Err(e) => {
                eprintln!("line {number}: error: cannot read the input: {e}");
                return ExitCode::FAILURE;
            }
        };
        match session.execute(&line) {
            // A reader that went away (`vexpr < script | head`) ends the
            // script quietly, as a failure.
            Ok(Reply::Text(text)) => {
                if !emit(&text) {
                    return ExitCode::FAILURE;
                }
            }
            Ok(Reply::Nothing) => {}
            Ok(Reply::Quit) => break,
            Err(Failure::Error(message)) => {
                eprintln!("line {number}: {message}");
                failed = true;
            }
            Err(Failure::Interrupted) => {
                eprintln!("line {number}: interrupted");
                return ExitCode::from(interrupt::EXIT_INTERRUPTED);
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
