//! `vexpr eval EXPR NAME=VALUE ... [-o OUT] [--threads N] [--chunk N] [--quiet]`.
//!
//! Takes the expression and its variables (numbers, `.npy` files, arrays of
//! `.npz` archives, or a `.npy` on standard input: see `files.rs`) and
//! evaluates it with the library's chunked evaluation: the files are read a
//! chunk at a time and the result is written as it is computed, so memory
//! use does not grow with the data. The result goes to a `.npy` or `.npz`
//! file (`-o`, written beside the target and renamed into place when
//! complete), to standard output as a `.npy` (`-o -`), or is printed as
//! NumPy-style text. A progress bar shows on standard error for runs over a
//! second when it is a terminal (not with `--quiet`). Ctrl-C stops the run,
//! leaving no file behind. Fails (status 1) on an evaluation error, a file
//! that cannot be read or written, or Ctrl-C; a variable given twice is a
//! usage error (status 2).

use crate::Failure;
use crate::files::{FileSink, FileSource, Location, Target};
use crate::value::{Binding, Source as Given};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vexpr::chunked::{Chunking, Input, MemorySink, Progress, Sink, Source};
use vexpr::{Expr, InterruptFlag, Options, Signature, Value};

/// The arguments of `vexpr eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The expression, e.g. "2*a**3 - 4*a**5 + 6*log(a)" (it may start with `-`)
    #[arg(allow_hyphen_values = true)]
    pub expr: String,

    /// A variable: NAME=FILE.npy, NAME=FILE.npz:ARRAY (FILE.npz alone: the
    /// array called NAME, or the only one), NAME=- (a .npy on standard
    /// input), or NAME=NUMBER (3 is int64, 2.5 float64, True/False bool,
    /// 1+2j complex128)
    #[arg(value_name = "NAME=VALUE", value_parser = crate::value::parse_binding)]
    pub bindings: Vec<Binding>,

    /// Write the result to this .npy file (or to OUT.npz, OUT.npz:ARRAY, or
    /// - for a .npy on standard output) instead of printing it
    #[arg(short, long, value_name = "OUT.npy")]
    pub output: Option<PathBuf>,

    /// Worker threads (default: VEXPR_NUM_THREADS or the number of cores)
    #[arg(long, value_name = "N", value_parser = crate::parse_threads)]
    pub threads: Option<usize>,

    /// Elements read and computed at a time (memory use is a few buffers of
    /// this many elements)
    #[arg(long, value_name = "N", default_value_t = vexpr::chunked::DEFAULT_CHUNK_LEN,
          value_parser = parse_chunk)]
    pub chunk: usize,

    /// No progress bar
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_chunk(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{text}` is not a positive number of elements")),
    }
}

/// Runs `vexpr eval`: the text to print, or nothing when the result went to a file.
pub fn run(args: &Args) -> Result<Option<String>, Failure> {
    crate::check_unique(&args.bindings)?;
    // Headers first (they give the types to compile for), then the inputs.
    let mut files: Vec<Option<FileSource>> = Vec::with_capacity(args.bindings.len());
    let mut signature = Signature::new();
    for binding in &args.bindings {
        let (file, dtype) = match &binding.value {
            Given::Literal(scalar) => (None, scalar.dtype()),
            Given::File(path) => {
                let location = Location::parse(&path.to_string_lossy());
                let file = FileSource::open(&location, &binding.name).map_err(|message| {
                    Failure::Message(format!("`{}`: {message}", binding.name))
                })?;
                let dtype = file.dtype();
                (Some(file), dtype)
            }
        };
        signature = signature.with(&binding.name, dtype);
        files.push(file);
    }
    let expr = Expr::compile(&args.expr, &signature)?;
    let mut inputs: Vec<Input> = args
        .bindings
        .iter()
        .zip(&mut files)
        .map(|(binding, file)| match (file, &binding.value) {
            (Some(file), _) => Input::Source(file as &mut dyn Source),
            (None, Given::Literal(scalar)) => Input::Value(Value::Scalar(scalar.clone())),
            (None, Given::File(_)) => unreachable!("every file was opened"),
        })
        .collect();

    let mut options = Options::default();
    if let Some(threads) = args.threads {
        options = options.with_threads(threads);
    }
    // Ctrl-C (and SIGTERM) stop the evaluation at its next check, so that
    // the temporary output is removed on the way out.
    let stop = InterruptFlag::new();
    let flag = stop.flag();
    // Fails only if a handler is already set, in which case that one stays.
    let _ = ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::Relaxed));
    let options = options.with_interrupt(flag);

    let mut bar = Bar::new(args.quiet);
    let mut report = |progress: Progress| bar.update(progress);
    let chunking = Chunking {
        chunk_len: args.chunk,
        progress: Some(&mut report),
    };
    let result = match &args.output {
        Some(path) => {
            let mut sink = FileSink::new(Target::parse(path));
            evaluate(&expr, &mut inputs, &mut sink, options, chunking)?;
            sink.finish().map_err(Failure::Message)?;
            None
        }
        None => {
            let mut sink = MemorySink::default();
            evaluate(&expr, &mut inputs, &mut sink, options, chunking)?;
            let array = sink
                .into_array()
                .ok_or_else(|| Failure::Message("the evaluation gave no result".to_string()))?;
            Some(crate::format::format_array(&array))
        }
    };
    bar.finish();
    Ok(result)
}

fn evaluate(
    expr: &Expr,
    inputs: &mut [Input<'_>],
    sink: &mut dyn Sink,
    options: Options,
    chunking: Chunking<'_>,
) -> Result<(), Failure> {
    expr.eval_chunked(inputs, sink, options, chunking)
        .map_err(|e| match e.kind() {
            // Not the expression's fault: no caret under it.
            vexpr::ErrorKind::Io => Failure::Message(e.message().to_string()),
            vexpr::ErrorKind::Interrupted => Failure::Message("interrupted".to_string()),
            _ => Failure::from(e),
        })
}

/// How long a run goes before its progress bar shows: a second, or
/// `VEXPR_PROGRESS_DELAY` seconds (the tests show it at once).
fn progress_delay() -> Duration {
    std::env::var("VEXPR_PROGRESS_DELAY")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(Duration::from_secs(1))
}

/// The progress bar: shown once a run has taken a second, when standard
/// error is a terminal and not `--quiet`.
struct Bar {
    started: Instant,
    shown: Option<ProgressBar>,
    enabled: bool,
}

impl Bar {
    fn new(quiet: bool) -> Bar {
        Bar {
            started: Instant::now(),
            shown: None,
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }

    fn update(&mut self, progress: Progress) {
        if !self.enabled {
            return;
        }
        if self.shown.is_none() && self.started.elapsed() >= progress_delay() {
            let bar =
                ProgressBar::with_draw_target(Some(progress.total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} elements, {per_sec}, {eta} left",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            self.shown = Some(bar);
        }
        if let Some(bar) = &self.shown {
            bar.set_length(progress.total);
            bar.set_position(progress.done);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.shown {
            bar.finish_and_clear();
        }
    }
}
