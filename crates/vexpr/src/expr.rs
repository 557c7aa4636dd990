//! The public entry points: compile an expression once ([`Expr::compile`]) and
//! evaluate it many times, or do both at once ([`evaluate`]).

use crate::array::{Array, Buffer, Element, Env, Value};
use crate::dtype::{DType, Storage};
use crate::error::{Error, ErrorKind, Result, Span};
use crate::program::{Program, Role};
use crate::stages::Stage;
use crate::vm::{self, Binding, Gather, Options, ReduceError, Stop};
use std::sync::{Arc, OnceLock};

/// The types of an expression's variables, by name: what it is compiled for.
///
/// ```
/// use vexpr::{DType, Signature};
/// let sig = Signature::new().with("a", DType::Float64).with("n", DType::Int32);
/// assert_eq!(sig.get("n"), Some(DType::Int32));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Signature {
    pub(crate) vars: Vec<(String, DType)>,
}

impl Signature {
    /// No variables.
    ///
    /// ```
    /// assert_eq!(vexpr::Signature::new().iter().count(), 0);
    /// ```
    pub fn new() -> Self {
        Signature::default()
    }

    /// Adds (or retypes) a variable.
    ///
    /// ```
    /// use vexpr::{DType, Signature};
    /// let sig = Signature::new().with("a", DType::Int32).with("a", DType::Int64);
    /// assert_eq!(sig.get("a"), Some(DType::Int64));
    /// ```
    pub fn with(mut self, name: &str, dtype: DType) -> Self {
        match self.vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = dtype,
            None => self.vars.push((name.to_string(), dtype)),
        }
        self
    }

    /// The types of the values bound in `env`, in its order.
    ///
    /// ```
    /// use vexpr::{DType, Env, Signature};
    /// let env = Env::new().with("a", &[1i32, 2][..]).with("x", vexpr::Scalar::Float64(0.5));
    /// assert_eq!(Signature::of(&env), Signature::new().with("a", DType::Int32).with("x", DType::Float64));
    /// ```
    pub fn of(env: &Env<'_>) -> Self {
        Signature {
            vars: env
                .iter()
                .map(|(n, v)| (n.to_string(), v.dtype()))
                .collect(),
        }
    }

    /// The type of `name`.
    ///
    /// ```
    /// let sig = vexpr::Signature::new().with("a", vexpr::DType::Bool);
    /// assert_eq!(sig.get("b"), None);
    /// ```
    pub fn get(&self, name: &str) -> Option<DType> {
        self.vars.iter().find(|(n, _)| n == name).map(|(_, t)| *t)
    }

    /// Every variable, in the order they were added.
    ///
    /// ```
    /// use vexpr::{DType, Signature};
    /// let sig = Signature::new().with("b", DType::Int32).with("a", DType::Bool);
    /// let names: Vec<&str> = sig.iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["b", "a"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, DType)> {
        self.vars.iter().map(|(n, t)| (n.as_str(), *t))
    }
}

impl std::fmt::Display for Signature {
    /// `name: dtype` pairs, comma-separated, in order.
    ///
    /// ```
    /// use vexpr::{DType, Signature};
    /// let sig = Signature::new().with("a", DType::Float64).with("n", DType::Int32);
    /// assert_eq!(sig.to_string(), "a: float64, n: int32");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, (name, dtype)) in self.vars.iter().enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}: {dtype}")?;
        }
        Ok(())
    }
}

/// A compiled expression: immutable, `Send + Sync`, and evaluable from many
/// threads at once (each run keeps its scratch apart from the program).
///
/// ```
/// use vexpr::{DType, Env, Expr, Signature};
/// let sig = Signature::new().with("a", DType::Float64).with("b", DType::Float64);
/// let e = Expr::compile("2*a + 3*b", &sig).unwrap();
/// let (a, b) = ([1.0, 2.0], [10.0, 20.0]);
/// let env = Env::new().with("a", &a[..]).with("b", &b[..]);
/// let mut out = [0.0; 2];
/// e.eval_into(&env, &mut out).unwrap();
/// assert_eq!(out, [32.0, 64.0]);
/// println!("{e}"); // the bytecode listing, as `vexpr dis` prints it
/// ```
#[derive(Debug, Clone)]
pub struct Expr {
    pub(crate) source: Arc<str>,
    /// One per reduction, run in order before the final program.
    pub(crate) stages: Vec<Stage>,
    pub(crate) program: Program,
    /// The signature's variables, then one per stage (`sum#0`, ...).
    pub(crate) variables: Vec<String>,
    /// Types of the signature's variables.
    pub(crate) signature: Signature,
    /// Where each variable first appears, for the variables some program reads.
    pub(crate) spans: Vec<Option<Span>>,
}

/// Evaluates `source` against `env` with the default [`Options`].
///
/// The expression is compiled for the types of `env`'s values on the first
/// call and kept, as numexpr keeps it: a later call with the same text and
/// the same names and dtypes (in the same order) reuses the compiled
/// expression, machine code included. Up to 256 expressions are kept, the
/// least recently used dropped first; texts over 16 KiB are compiled on
/// every call. [`Expr::compile`] is the way to hold one yourself.
///
/// ```
/// let a = [1.0f64, 4.0, 9.0];
/// let r = vexpr::evaluate("sqrt(a) + 1", &vexpr::Env::new().with("a", &a[..])).unwrap();
/// assert_eq!(r.as_slice::<f64>().unwrap(), &[2.0, 3.0, 4.0]);
/// ```
pub fn evaluate(source: &str, env: &Env<'_>) -> Result<Array> {
    evaluate_with(source, env, Options::default())
}

/// [`evaluate`] with the given [`Options`] (which are no part of what is
/// kept: they change how the expression runs, not what it compiles to).
///
/// ```
/// use vexpr::{Env, Options};
/// let a = [1.0f64, 2.0];
/// let options = Options::default().with_threads(1);
/// let r = vexpr::evaluate_with("a * 2", &Env::new().with("a", &a[..]), options).unwrap();
/// assert_eq!(r.as_slice::<f64>().unwrap(), &[2.0, 4.0]);
/// ```
pub fn evaluate_with(source: &str, env: &Env<'_>, options: Options) -> Result<Array> {
    crate::cache::compiled(source, &Signature::of(env))?.eval_with(env, options)
}

impl Expr {
    /// Parses, type checks, optimizes and compiles `source` for variables of the
    /// given types. Errors point at the place in `source`.
    ///
    /// ```
    /// use vexpr::{DType, ErrorKind, Expr, Signature};
    /// let sig = Signature::new().with("a", DType::Int32);
    /// assert_eq!(Expr::compile("a * 2", &sig).unwrap().result_dtype(), DType::Int32);
    /// let err = Expr::compile("a * b", &sig).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::UnknownName);
    /// ```
    pub fn compile(source: &str, signature: &Signature) -> Result<Expr> {
        let text: Arc<str> = Arc::from(source);
        Expr::compile_inner(&text, signature).map_err(|e| e.with_source(&text))
    }

    fn compile_inner(source: &Arc<str>, signature: &Signature) -> Result<Expr> {
        let ast = crate::syntax::parse(source)?;
        let hir = crate::typeck::check(&ast, &signature.vars)?;
        let hir = crate::optimize::optimize(&hir);
        let names: Vec<String> = signature.vars.iter().map(|(n, _)| n.clone()).collect();
        check_limits(&hir)?;
        let (stages, program, variables) = crate::codegen::generate_stages(&hir, &names);
        crate::jit::prepare();
        // Only the variables some program still reads count as used (`where(True, a, b)`
        // does not read `b`); each keeps the span of its first appearance.
        let mut read = vec![false; variables.len()];
        for p in stages.iter().map(|s| &s.program).chain([&program]) {
            for &v in &p.input_vars {
                read[v] = true;
            }
        }
        let mut spans = vec![None; variables.len()];
        for node in &hir.nodes {
            if let crate::hir::NodeKind::Input(v) = node.kind
                && read[v]
            {
                spans[v].get_or_insert(node.span);
            }
        }
        for (k, stage) in stages.iter().enumerate() {
            spans[names.len() + k] = Some(stage.span);
        }
        Ok(Expr {
            source: Arc::clone(source),
            stages,
            program,
            variables,
            signature: signature.clone(),
            spans,
        })
    }

    /// The expression text.
    ///
    /// ```
    /// let e = vexpr::Expr::compile("1 + 2", &vexpr::Signature::new()).unwrap();
    /// assert_eq!(e.source(), "1 + 2");
    /// ```
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variables and types the expression was compiled for.
    ///
    /// ```
    /// use vexpr::{DType, Expr, Signature};
    /// let sig = Signature::new().with("a", DType::Int32);
    /// assert_eq!(Expr::compile("a + 1", &sig).unwrap().signature(), &sig);
    /// ```
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The final program. An expression with reductions also has
    /// [`Expr::stages`], which run first.
    pub(crate) fn program(&self) -> &Program {
        &self.program
    }

    /// The reduction stages, in the order they run.
    pub(crate) fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// The result's element type. A zero-width string type (`S0`, from a
    /// variable of that type) is evaluated into `S1` arrays of NULs, as NumPy
    /// stores b''.
    ///
    /// ```
    /// use vexpr::{DType, Expr, Signature};
    /// let sig = Signature::new().with("n", DType::Int64).with("x", DType::Float32);
    /// assert_eq!(Expr::compile("n > 0", &sig).unwrap().result_dtype(), DType::Bool);
    /// assert_eq!(Expr::compile("n * x", &sig).unwrap().result_dtype(), DType::Float32);
    /// ```
    pub fn result_dtype(&self) -> DType {
        self.program.result_dtype()
    }

    /// The names of the signature's variables the expression reads, in the
    /// signature's order.
    ///
    /// ```
    /// use vexpr::{DType, Expr, Signature};
    /// let sig = Signature::new()
    ///     .with("a", DType::Float64)
    ///     .with("unused", DType::Float64)
    ///     .with("b", DType::Float64);
    /// assert_eq!(Expr::compile("b - a", &sig).unwrap().variables(), ["a", "b"]);
    /// ```
    pub fn variables(&self) -> Vec<&str> {
        (0..self.signature.vars.len())
            .filter(|&v| self.spans[v].is_some())
            .map(|v| self.variables[v].as_str())
            .collect()
    }

    /// The shape of the result for these inputs (checks names, types and shapes;
    /// evaluates the reductions, whose shapes depend on their operands).
    ///
    /// ```
    /// use vexpr::{ArrayView, DType, Env, Expr, Signature};
    /// let m = [1.0; 6];
    /// let row = [1.0, 2.0, 3.0];
    /// let env = Env::new()
    ///     .with("m", ArrayView::strided(&m[..], &[2, 3], &[3, 1], 0).unwrap())
    ///     .with("row", &row[..]);
    /// let e = Expr::compile("m * row", &Signature::of(&env)).unwrap();
    /// assert_eq!(e.result_shape(&env).unwrap(), [2, 3]);
    /// ```
    pub fn result_shape(&self, env: &Env<'_>) -> Result<Vec<usize>> {
        self.shape_of_values(self.lookup(env)?, &self.stage_slots())
    }

    /// [`Expr::result_shape`] with the inputs given by position, in the order
    /// of [`Expr::signature`] (what a binding to another language has at
    /// hand: no names to look up). A variable the expression does not read
    /// may be any value.
    ///
    /// ```
    /// use vexpr::{DType, Expr, Signature, Value};
    /// let sig = Signature::new().with("a", DType::Float64).with("b", DType::Float64);
    /// let e = Expr::compile("a * b", &sig).unwrap();
    /// let (a, b) = ([1.0, 2.0, 3.0], [10.0]);
    /// let inputs = [Value::from(&a[..]), Value::from(&b[..])];
    /// assert_eq!(e.result_shape_positional(&inputs).unwrap(), [3]);
    /// let mut out = [0.0; 3];
    /// e.eval_into_positional(&inputs, &mut out, vexpr::Options::default()).unwrap();
    /// assert_eq!(out, [10.0, 20.0, 30.0]);
    /// ```
    pub fn result_shape_positional(&self, inputs: &[Value<'_>]) -> Result<Vec<usize>> {
        self.shape_of_values(self.positional(inputs)?, &self.stage_slots())
    }

    fn shape_of_values<'a>(
        &self,
        mut values: Vec<Option<Value<'a>>>,
        results: &'a [OnceLock<Array>],
    ) -> Result<Vec<usize>> {
        self.run_stages(&mut values, results, Options::default())?;
        self.broadcast(&self.program, &values)
            .map_err(|e| e.with_source(&self.source))
    }

    /// Evaluates into a new array, with the default [`Options`].
    ///
    /// ```
    /// use vexpr::{Env, Expr, Signature};
    /// let a = [1i64, 2, 3];
    /// let env = Env::new().with("a", &a[..]);
    /// let e = Expr::compile("a * a", &Signature::of(&env)).unwrap();
    /// assert_eq!(e.eval(&env).unwrap().as_slice::<i64>().unwrap(), &[1, 4, 9]);
    /// ```
    pub fn eval(&self, env: &Env<'_>) -> Result<Array> {
        self.eval_with(env, Options::default())
    }

    /// Evaluates into a new array, with the given [`Options`].
    ///
    /// ```
    /// use vexpr::{Env, Expr, Options, Signature};
    /// let a = vec![0.5; 10_000];
    /// let env = Env::new().with("a", &a);
    /// let e = Expr::compile("sum(a)", &Signature::of(&env)).unwrap();
    /// let total = e.eval_with(&env, Options::default().with_threads(1)).unwrap();
    /// assert_eq!(total.as_slice::<f64>().unwrap(), &[5000.0]);
    /// ```
    pub fn eval_with(&self, env: &Env<'_>, options: Options) -> Result<Array> {
        let results = self.stage_slots();
        let mut values = self.lookup(env)?;
        self.run_stages(&mut values, &results, options)?;
        self.evaluate_program(&self.program, &values, options)
    }

    /// Evaluates into `out`, which must have the result's type and as many
    /// elements as the result; allocates nothing of the inputs' size (except
    /// the operand of a reduction of a compound expression, see `docs/language.md`).
    ///
    /// If the evaluation is interrupted ([`Options::with_interrupt`]), part of
    /// `out` has been written.
    ///
    /// ```
    /// use vexpr::{Env, Expr, Signature};
    /// let a = [1.0f32, 2.0];
    /// let env = Env::new().with("a", &a[..]);
    /// let e = Expr::compile("a / 4", &Signature::of(&env)).unwrap();
    /// let mut out = [0.0f32; 2];
    /// e.eval_into(&env, &mut out).unwrap();
    /// assert_eq!(out, [0.25, 0.5]);
    /// // The buffer must hold the result's type and size.
    /// assert!(e.eval_into(&env, &mut [0.0f64; 2]).is_err());
    /// ```
    pub fn eval_into<T: Element>(&self, env: &Env<'_>, out: &mut [T]) -> Result<()> {
        self.eval_into_with(env, out, Options::default())
    }

    /// [`Expr::eval_into`] with explicit [`Options`].
    ///
    /// ```
    /// use vexpr::{Env, Expr, Options, Signature};
    /// let a = [3i32, -3];
    /// let env = Env::new().with("a", &a[..]);
    /// let e = Expr::compile("a % 2", &Signature::of(&env)).unwrap();
    /// let mut out = [0i32; 2];
    /// e.eval_into_with(&env, &mut out, Options::default().with_jit(false)).unwrap();
    /// assert_eq!(out, [1, 1]); // Python's modulo
    /// ```
    pub fn eval_into_with<T: Element>(
        &self,
        env: &Env<'_>,
        out: &mut [T],
        options: Options,
    ) -> Result<()> {
        let vars = &self.signature.vars;
        if let Some(direct) = self.direct_bindings::<T>(|v| env.get(&vars[v].0)) {
            return self.run_direct(direct, options, |_| Ok(out));
        }
        self.eval_values_into(self.lookup(env)?, &self.stage_slots(), out, options)
    }

    /// [`Expr::eval_into_with`] with the inputs given by position, in the
    /// order of [`Expr::signature`] (see [`Expr::result_shape_positional`]).
    ///
    /// ```
    /// use vexpr::{DType, Expr, Options, Signature, Value};
    /// let sig = Signature::new().with("x", DType::Float64).with("k", DType::Float64);
    /// let e = Expr::compile("x * k", &sig).unwrap();
    /// let x = [1.0, 2.0];
    /// let inputs = [Value::from(&x[..]), Value::from(vexpr::Scalar::Float64(3.0))];
    /// let mut out = [0.0; 2];
    /// e.eval_into_positional(&inputs, &mut out, Options::default()).unwrap();
    /// assert_eq!(out, [3.0, 6.0]);
    /// ```
    pub fn eval_into_positional<T: Element>(
        &self,
        inputs: &[Value<'_>],
        out: &mut [T],
        options: Options,
    ) -> Result<()> {
        self.eval_positional_with(inputs, options, |_| Ok::<_, Error>(out))
    }

    /// [`Expr::eval_into_positional`] for a caller that allocates the output
    /// only once the result's shape is known: `alloc` gets the shape and
    /// returns a buffer of as many elements, or an error that is returned as
    /// is. The inputs are checked and broadcast once for both steps, which is
    /// what makes this the cheapest call for small arrays.
    ///
    /// ```
    /// use vexpr::{DType, Expr, Options, Signature, Value};
    /// let e = Expr::compile("a + 1", &Signature::new().with("a", DType::Int32)).unwrap();
    /// let a = [1, 2, 3];
    /// let mut storage = Vec::new();
    /// e.eval_positional_with(&[Value::from(&a[..])], Options::default(), |shape: &[usize]| {
    ///     storage.resize(shape.iter().product(), 0i32);
    ///     Ok::<_, vexpr::Error>(&mut storage[..])
    /// })
    /// .unwrap();
    /// assert_eq!(storage, [2, 3, 4]);
    /// ```
    pub fn eval_positional_with<'o, T: Element, E: From<Error>>(
        &self,
        inputs: &[Value<'_>],
        options: Options,
        alloc: impl FnOnce(&[usize]) -> Result<&'o mut [T], E>,
    ) -> Result<(), E> {
        if inputs.len() == self.signature.vars.len()
            && let Some(direct) = self.direct_bindings::<T>(|v| inputs.get(v))
        {
            return self.run_direct(direct, options, alloc);
        }
        let results = self.stage_slots();
        self.eval_values_with(self.positional(inputs)?, &results, options, alloc)
    }

    /// Runs the bindings [`Expr::direct_bindings`] found into the buffer
    /// `alloc` gives for their shape.
    fn run_direct<'o, T: Element, E: From<Error>>(
        &self,
        (shape, bindings): (&[usize], Vec<Binding<'_>>),
        options: Options,
        alloc: impl FnOnce(&[usize]) -> Result<&'o mut [T], E>,
    ) -> Result<(), E> {
        let len = shape.iter().product();
        let out = alloc(shape)?;
        if out.len() != len {
            return Err(self.output_mismatch(len, shape, out.len()).into());
        }
        vm::run(&self.program, &bindings, out_bytes(out), len, options)
            .map_err(|stop| self.stopped(&self.program, stop).into())
    }

    /// Runs the program over inputs that are each one contiguous run of
    /// elements in native layout (`inputs[v]`, variable `v` of the
    /// signature, bytes of its type) into `out`, all of one length: the
    /// shape, broadcasting and view checks of the other entry points have
    /// been made by the caller. Refused (an `Input` error) for an expression
    /// with reductions or a string result or variable, and for inputs of
    /// the wrong length or alignment.
    pub(crate) fn eval_contiguous(
        &self,
        inputs: &[&[u8]],
        out: &mut [u8],
        options: Options,
    ) -> Result<()> {
        let refuse = |message: String| {
            Err(
                Error::new(ErrorKind::Input, Span::new(0, self.source.len()), message)
                    .with_source(&self.source),
            )
        };
        let result = self.result_dtype();
        if !self.stages.is_empty() || result.is_bytes() {
            return refuse(
                "only an expression without reductions or strings runs on raw bytes".into(),
            );
        }
        if inputs.len() != self.signature.vars.len() {
            return refuse(format!(
                "{} inputs given, the expression has {} variables",
                inputs.len(),
                self.signature.vars.len()
            ));
        }
        let width = result.itemsize();
        let len = out.len() / width;
        if !out.len().is_multiple_of(width) || out.as_ptr().align_offset(width.min(8)) != 0 {
            return refuse(format!("the output is not {width}-byte elements, aligned"));
        }
        let mut bindings = Vec::with_capacity(self.program.input_vars.len());
        for v in read_variables(&self.program) {
            let (name, dtype) = &self.signature.vars[v];
            let data = inputs[v];
            let size = dtype.itemsize();
            if dtype.is_bytes()
                || data.len() != len * size
                || data.as_ptr().align_offset(size.min(8)) != 0
            {
                return refuse(format!(
                    "input {name:?} is not {len} aligned elements of {}",
                    dtype.name()
                ));
            }
            // NumPy's booleans may hold any byte: the VM checks them.
            bindings.push(match dtype {
                DType::Bool => Binding::Booleans(data),
                _ => Binding::Dense(data),
            });
        }
        vm::run(&self.program, &bindings, out, len, options)
            .map_err(|stop| self.stopped(&self.program, stop))
    }

    /// The shape of the result and the bindings of the inputs, for
    /// [`Expr::eval_positional_with`]'s common case, which then skips the
    /// copies of the values and of the shape the general path makes (they
    /// cost as much as the run itself on a few elements): no reductions,
    /// every input of the type compiled for, and the arrays the program reads
    /// all of one shape (scalars aside), which the checks of
    /// [`Expr::broadcast`] and [`bind`] accept. The bindings and shape are
    /// then those the general path finds. `None` otherwise, and for every
    /// input the general path refuses, so that it reports the error.
    fn direct_bindings<'v, 'a: 'v, T: Element>(
        &self,
        input: impl Fn(usize) -> Option<&'v Value<'a>>,
    ) -> Option<(&'v [usize], Vec<Binding<'a>>)> {
        // Without stages the variables the final program reads are all that
        // any program reads (those with a span), so these are the checks of
        // `lookup` and `positional`.
        if !self.stages.is_empty() || T::DTYPE != self.result_dtype() {
            return None;
        }
        // One pass, each variable looked up once: the arrays must all have
        // the shape of the first, so each is bound with its own.
        let mut shape: Option<&[usize]> = None;
        let mut bindings = Vec::with_capacity(self.program.input_vars.len());
        for v in read_variables(&self.program) {
            let value = input(v)?;
            if value.dtype() != self.signature.vars[v].1 {
                return None;
            }
            let own: &[usize] = match value {
                Value::Array(view) => view.shape(),
                Value::Scalar(_) => &[],
            };
            if let Value::Array(_) = value {
                match shape {
                    None => shape = Some(own),
                    Some(s) if same_shape(s, own) => {}
                    Some(_) => return None,
                }
            }
            bindings.push(bind(value, own)?);
        }
        let shape = shape?;
        crate::array::checked_size(shape, self.result_dtype().itemsize())?;
        Some((shape, bindings))
    }

    /// The error of an output buffer of `got` elements for a result of `len`
    /// (of `shape`).
    fn output_mismatch(&self, len: usize, shape: &[usize], got: usize) -> Error {
        Error::new(
            ErrorKind::Shape,
            Span::new(0, self.source.len()),
            format!("the result has {len} elements (shape {shape:?}), the output buffer {got}"),
        )
        .with_source(&self.source)
    }

    fn eval_values_into<'a, T: Element>(
        &self,
        values: Vec<Option<Value<'a>>>,
        results: &'a [OnceLock<Array>],
        out: &mut [T],
        options: Options,
    ) -> Result<()> {
        self.eval_values_with(values, results, options, |_| Ok::<_, Error>(out))
    }

    fn eval_values_with<'a, 'o, T: Element, E: From<Error>>(
        &self,
        mut values: Vec<Option<Value<'a>>>,
        results: &'a [OnceLock<Array>],
        options: Options,
        alloc: impl FnOnce(&[usize]) -> Result<&'o mut [T], E>,
    ) -> Result<(), E> {
        let whole = Span::new(0, self.source.len());
        if T::DTYPE != self.result_dtype() {
            return Err(Error::new(
                ErrorKind::Input,
                whole,
                format!(
                    "the result is {}, the output buffer holds {}",
                    self.result_dtype(),
                    T::DTYPE
                ),
            )
            .with_source(&self.source)
            .into());
        }
        self.run_stages(&mut values, results, options)?;
        let shape = self
            .broadcast(&self.program, &values)
            .map_err(|e| e.with_source(&self.source))?;
        let len = shape
            .iter()
            .try_fold(1usize, |acc, &n| acc.checked_mul(n))
            .unwrap_or(usize::MAX);
        let out = alloc(&shape)?;
        if out.len() != len {
            return Err(self.output_mismatch(len, &shape, out.len()).into());
        }
        Ok(self.run(&self.program, &values, &shape, out_bytes(out), options)?)
    }

    /// Evaluates in place: `data` is both the value of the variable `name` (with
    /// `shape`) and the output, as numexpr's `evaluate("a + 1", out=a)`. The
    /// result is as if all inputs were read first. The result must have `name`'s
    /// type and shape (other inputs broadcast to it); reductions may not read
    /// `name`.
    ///
    /// If the evaluation is interrupted ([`Options::with_interrupt`]), part of
    /// `data` holds results and the rest its old values.
    ///
    /// ```
    /// use vexpr::{DType, Env, Expr, Signature};
    /// let mut a = vec![1.0, 2.0, 3.0];
    /// let sig = Signature::new().with("a", DType::Float64);
    /// let e = Expr::compile("a * 10 + 1", &sig).unwrap();
    /// e.eval_in_place(&Env::new(), "a", &[3], &mut a).unwrap();
    /// assert_eq!(a, [11.0, 21.0, 31.0]);
    /// ```
    pub fn eval_in_place<T: Element>(
        &self,
        env: &Env<'_>,
        name: &str,
        shape: &[usize],
        data: &mut [T],
    ) -> Result<()> {
        self.eval_in_place_with(env, name, shape, data, Options::default())
    }

    /// [`Expr::eval_in_place`] with explicit [`Options`].
    ///
    /// ```
    /// use vexpr::{DType, Env, Expr, Options, Signature};
    /// let mut a = vec![4.0, 9.0];
    /// let e = Expr::compile("sqrt(a)", &Signature::new().with("a", DType::Float64)).unwrap();
    /// e.eval_in_place_with(&Env::new(), "a", &[2], &mut a, Options::default().with_threads(1))
    ///     .unwrap();
    /// assert_eq!(a, [2.0, 3.0]);
    /// ```
    pub fn eval_in_place_with<T: Element>(
        &self,
        env: &Env<'_>,
        name: &str,
        shape: &[usize],
        data: &mut [T],
        options: Options,
    ) -> Result<()> {
        let whole = Span::new(0, self.source.len());
        let fail =
            |kind, message: String| Err(Error::new(kind, whole, message).with_source(&self.source));
        let Some(target) = self.signature.vars.iter().position(|(n, _)| n == name) else {
            return fail(
                ErrorKind::UnknownName,
                format!("`{name}` is not a variable of the signature"),
            );
        };
        if self.signature.vars[target].1 != T::DTYPE || self.result_dtype() != T::DTYPE {
            return fail(
                ErrorKind::Input,
                format!(
                    "in place needs `{name}` and the result to have one type; they are {} and {}",
                    self.signature.vars[target].1,
                    self.result_dtype()
                ),
            );
        }
        // Checked: a product that wraps could match a short `data`.
        let size = shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
        if size != Some(data.len()) {
            return fail(
                ErrorKind::Shape,
                format!("shape {shape:?} does not match {} elements", data.len()),
            );
        }
        if self
            .stages
            .iter()
            .any(|s| read_variables(&s.program).any(|v| v == target))
        {
            return fail(
                ErrorKind::Unsupported,
                format!("a reduction reads `{name}`: evaluate into a new array instead"),
            );
        }
        // Every other variable comes from `env`; `name` is bound below to the
        // output buffer itself.
        let results = self.stage_slots();
        let mut values = Vec::with_capacity(self.signature.vars.len() + self.stages.len());
        for (v, (var, want)) in self.signature.vars.iter().enumerate() {
            if v == target || self.spans[v].is_none() {
                values.push(None);
                continue;
            }
            let span = self.spans[v].unwrap_or_default();
            let value = env.get(var).ok_or_else(|| {
                Error::new(
                    ErrorKind::UnknownName,
                    span,
                    format!("no value given for variable `{var}`"),
                )
                .with_source(&self.source)
            })?;
            if value.dtype() != *want {
                return fail(
                    ErrorKind::Type,
                    format!(
                        "`{var}` is {}, but the expression was compiled for {want}",
                        value.dtype()
                    ),
                );
            }
            values.push(Some(value.clone()));
        }
        self.run_stages(&mut values, &results, options)?;
        // The other inputs broadcast together, and then with `name`'s own shape.
        let mut result_shape = self
            .broadcast(&self.program, &values)
            .map_err(|e| e.with_source(&self.source))?;
        if read_variables(&self.program).any(|v| v == target) {
            result_shape = broadcast_pair(&result_shape, shape).ok_or_else(|| {
                Error::new(ErrorKind::Shape, self.spans[target].unwrap_or_default(), format!("shape mismatch: `{name}` has shape {shape:?}, the other inputs {result_shape:?}")).with_source(&self.source)
            })?;
        }
        if result_shape != shape {
            return fail(
                ErrorKind::Shape,
                format!("the result has shape {result_shape:?}, `{name}` has shape {shape:?}"),
            );
        }
        let bindings = self.bindings(&self.program, &values, shape, Some(target))?;
        let len = data.len();
        vm::run(&self.program, &bindings, out_bytes(data), len, options)
            .map_err(|stop| self.stopped(&self.program, stop))
    }

    /// The error for a run of `program` that stopped.
    pub(crate) fn stopped(&self, program: &Program, stop: Stop) -> Error {
        match stop {
            Stop::Fault(fault) => {
                let span = program.code[fault.instr].span;
                Error::new(ErrorKind::Value, span, fault.message).with_source(&self.source)
            }
            Stop::Interrupted => self.interrupted(),
            Stop::Unavailable(level) => {
                let whole = Span::new(0, self.source.len());
                Error::new(ErrorKind::Unsupported, whole, level.unavailable())
                    .with_source(&self.source)
            }
        }
    }

    /// The error of an interrupted evaluation: about the whole expression.
    pub(crate) fn interrupted(&self) -> Error {
        let whole = Span::new(0, self.source.len());
        Error::new(
            ErrorKind::Interrupted,
            whole,
            "the evaluation was interrupted",
        )
        .with_source(&self.source)
    }

    /// Runs `program` into a new array of its broadcast shape.
    pub(crate) fn evaluate_program(
        &self,
        program: &Program,
        values: &[Option<Value<'_>>],
        options: Options,
    ) -> Result<Array> {
        let shape = self
            .broadcast(program, values)
            .map_err(|e| e.with_source(&self.source))?;
        let dtype = program.result_dtype();
        // A zero-width string result (from a variable of type `S0`) is all
        // b'', whatever the inputs, and an `S0` buffer could not say how many
        // elements it holds: it is stored as NumPy stores b'', as `S1` NULs.
        let stored = match dtype {
            DType::Bytes(0) => DType::Bytes(1),
            dtype => dtype,
        };
        let len = shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
        let Some(mut buffer) = len.and_then(|len| Buffer::try_zeros(stored, len)) else {
            let whole = Span::new(0, self.source.len());
            let message =
                format!("cannot allocate the result: shape {shape:?} of {dtype} is too large");
            return Err(Error::new(ErrorKind::Shape, whole, message).with_source(&self.source));
        };
        if stored == dtype {
            self.run(program, values, &shape, buffer.as_bytes_mut(), options)?;
        }
        // Cannot fail: `try_zeros` made the shape's element count, of a
        // nonzero width.
        Ok(Array::from_buffer(buffer, &shape).expect("the buffer was made for the shape"))
    }

    /// One empty slot per reduction stage, for [`Expr::run_stages`] to fill.
    pub(crate) fn stage_slots(&self) -> Vec<OnceLock<Array>> {
        self.stages.iter().map(|_| OnceLock::new()).collect()
    }

    /// Runs the reduction stages in order, each result into its slot of
    /// `results` and, as a variable that the later programs read, onto the end
    /// of `values` (which holds the signature's variables when called).
    fn run_stages<'a>(
        &self,
        values: &mut Vec<Option<Value<'a>>>,
        results: &'a [OnceLock<Array>],
        options: Options,
    ) -> Result<()> {
        for (stage, slot) in self.stages.iter().zip(results) {
            if options.interrupted() {
                return Err(self.interrupted());
            }
            let reduced = self.run_stage(stage, values, options)?;
            let reduced = slot.get_or_init(|| reduced);
            values.push(Some(Value::Array(reduced.view())));
        }
        Ok(())
    }

    /// Runs one reduction stage on `values` (the signature's variables, then
    /// the results of the stages before it).
    pub(crate) fn run_stage(
        &self,
        stage: &Stage,
        values: &[Option<Value<'_>>],
        options: Options,
    ) -> Result<Array> {
        // A reduction of a plain variable reads it in place (converting
        // stored elements as `vm::reduce` reads them); any other
        // operand is computed once, in full, by the stage's program.
        let direct = match stage.program.code.as_slice() {
            [only] if only.overload.op == crate::functions::Op::Copy => {
                match &stage.program.registers[only.args[0] as usize].role {
                    Role::Input(i) => values[stage.program.input_vars[*i]].clone(),
                    _ => None,
                }
            }
            _ => None,
        };
        // The reduction's own refusals (an axis out of bounds, `min` of
        // nothing) come before the operand's values are computed, and so
        // before their errors: the chunked evaluation, which plans every
        // shape first, reports the same error.
        let operand = self
            .broadcast_with(&stage.program, |v| values[v].as_ref().map(Value::shape))
            .map_err(|e| e.with_source(&self.source))?;
        crate::vm::reduced_shape(&operand, stage.program.result_dtype(), stage.op, stage.axis)
            .map_err(|error| self.reduce_error(stage, error))?;
        let computed;
        let view = match &direct {
            Some(Value::Array(view)) => view.clone(),
            _ => {
                computed = self.evaluate_program(&stage.program, values, options)?;
                computed.view()
            }
        };
        // Small reductions run here: handing them to the pool costs more than
        // it saves (the result is the same either way).
        let threads = if view.len() < crate::vm::PARALLEL_REDUCTION_LEN {
            1
        } else {
            options.threads.max(1)
        };
        crate::vm::with_pool(threads, || {
            crate::vm::reduce(&view, stage.op, stage.axis, threads, options.interrupt)
        })
        .map_err(|error| self.reduce_error(stage, error))
    }

    /// The error of a reduction that gave no result.
    pub(crate) fn reduce_error(&self, stage: &Stage, error: ReduceError) -> Error {
        match error {
            ReduceError::Interrupted => self.interrupted(),
            ReduceError::Refused(message) => {
                let span = if message.starts_with("axis") {
                    stage.axis_span
                } else {
                    stage.span
                };
                Error::new(ErrorKind::Value, span, message).with_source(&self.source)
            }
        }
    }

    /// The values of the signature's variables some program reads, checked
    /// against the signature; `None` for the others (and for stage results).
    fn lookup<'a>(&self, env: &Env<'a>) -> Result<Vec<Option<Value<'a>>>> {
        let mut values = Vec::with_capacity(self.signature.vars.len() + self.stages.len());
        values.resize(self.signature.vars.len(), None);
        for (v, (name, want)) in self.signature.vars.iter().enumerate() {
            let Some(span) = self.spans[v] else { continue };
            let value = env.get(name).ok_or_else(|| {
                Error::new(
                    ErrorKind::UnknownName,
                    span,
                    format!("no value given for variable `{name}`"),
                )
                .with_source(&self.source)
            })?;
            self.check_type(name, *want, value, span)?;
            values[v] = Some(value.clone());
        }
        Ok(values)
    }

    /// Refuses a value of another type than the variable was compiled for.
    pub(crate) fn check_type(
        &self,
        name: &str,
        want: DType,
        value: &Value<'_>,
        span: Span,
    ) -> Result<()> {
        if value.dtype() == want {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Type,
            span,
            format!(
                "`{name}` is {}, but the expression was compiled for {want}",
                value.dtype()
            ),
        )
        .with_source(&self.source))
    }

    /// The values of the signature's variables given by position, checked
    /// like [`Expr::lookup`]'s.
    fn positional<'a>(&self, inputs: &[Value<'a>]) -> Result<Vec<Option<Value<'a>>>> {
        let vars = &self.signature.vars;
        if inputs.len() != vars.len() {
            let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
            return Err(Error::new(
                ErrorKind::Input,
                Span::new(0, self.source.len()),
                format!(
                    "{} inputs given for the {} variables ({})",
                    inputs.len(),
                    vars.len(),
                    names.join(", ")
                ),
            )
            .with_source(&self.source));
        }
        let mut values = Vec::with_capacity(vars.len() + self.stages.len());
        for (v, ((name, want), value)) in vars.iter().zip(inputs).enumerate() {
            let Some(span) = self.spans[v] else {
                values.push(None);
                continue;
            };
            self.check_type(name, *want, value, span)?;
            values.push(Some(value.clone()));
        }
        Ok(values)
    }

    /// NumPy broadcasting of the shapes of the inputs `program` reads.
    fn broadcast(&self, program: &Program, values: &[Option<Value<'_>>]) -> Result<Vec<usize>> {
        self.broadcast_with(program, |v| values[v].as_ref().map(Value::shape))
    }

    /// [`Expr::broadcast`] of the shapes `shape_of` gives for the variables
    /// (`None` for a variable without a value).
    pub(crate) fn broadcast_with<'s>(
        &self,
        program: &Program,
        shape_of: impl Fn(usize) -> Option<&'s [usize]>,
    ) -> Result<Vec<usize>> {
        let mut shape: Vec<usize> = Vec::new();
        let mut from: Option<usize> = None;
        for v in read_variables(program) {
            let Some(s) = shape_of(v) else { continue };
            match broadcast_into(&mut shape, s) {
                true => {}
                false => {
                    let first = from.map_or("?", |f| self.variables[f].as_str());
                    return Err(Error::new(
                        ErrorKind::Shape,
                        self.spans[v].unwrap_or_default(),
                        format!(
                            "shape mismatch: `{}` has shape {s:?}, which does not broadcast with {shape:?} (from `{first}`)",
                            self.variables[v]
                        ),
                    ));
                }
            }
            if from.is_none() || s.len() >= shape.len() {
                from = Some(v);
            }
        }
        // Stride-0 views can broadcast to more elements than could ever be
        // allocated or counted in a `usize`: refused here, where every entry
        // point passes, before anything is allocated or multiplied unchecked.
        let itemsize = program.result_dtype().itemsize();
        if crate::array::checked_size(&shape, itemsize).is_none() {
            return Err(Error::new(
                ErrorKind::Shape,
                Span::new(0, self.source.len()),
                format!(
                    "the result's shape {shape:?} is too large: its size in bytes overflows the address space"
                ),
            ));
        }
        Ok(shape)
    }

    /// How each variable reaches `program` for an output of `shape`; `in_place`
    /// is the variable whose data is the output buffer itself.
    fn bindings<'v>(
        &self,
        program: &Program,
        values: &'v [Option<Value<'v>>],
        shape: &[usize],
        in_place: Option<usize>,
    ) -> Result<Vec<Binding<'v>>> {
        read_variables(program)
            .map(|v| match &values[v] {
                _ if Some(v) == in_place => Ok(Binding::Output),
                Some(value) => bind(value, shape).ok_or_else(|| {
                    let message = format!(
                        "the strides of `{}` reach outside its data",
                        self.variables[v]
                    );
                    Error::new(ErrorKind::Input, self.spans[v].unwrap_or_default(), message)
                        .with_source(&self.source)
                }),
                _ => Ok(Binding::Splat(Vec::new())),
            })
            .collect()
    }

    pub(crate) fn run(
        &self,
        program: &Program,
        values: &[Option<Value<'_>>],
        shape: &[usize],
        out: &mut [u8],
        options: Options,
    ) -> Result<()> {
        let len: usize = shape.iter().product();
        let bindings = self.bindings(program, values, shape, None)?;
        vm::run(program, &bindings, out, len, options).map_err(|stop| self.stopped(program, stop))
    }
}

impl std::fmt::Display for Expr {
    /// The whole bytecode, what `vexpr dis` prints: each reduction stage,
    /// then the final program, one instruction a line. Its form is for
    /// reading, not parsing, and may change between versions.
    ///
    /// ```
    /// use vexpr::{DType, Expr, Signature};
    /// let e = Expr::compile("2*a + 1", &Signature::new().with("a", DType::Float64)).unwrap();
    /// let listing = e.to_string();
    /// assert!(listing.lines().count() >= 2);
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, stage) in self.stages.iter().enumerate() {
            let axis = stage.axis.map_or("None".to_string(), |a| a.to_string());
            writeln!(
                f,
                "stage {k}: {}#{k} = {}(operand, axis={axis}), operand computed by:",
                stage.op.name(),
                stage.op.name()
            )?;
            write!(f, "{}", stage.program)?;
        }
        if !self.stages.is_empty() {
            writeln!(f, "result:")?;
        }
        write!(f, "{}", self.program)
    }
}

/// Refuses more reductions than [`crate::MAX_STAGES`], pointing at the first
/// one past the limit, before any stage is made.
fn check_limits(hir: &crate::hir::Hir) -> Result<()> {
    let mut reductions = hir
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, crate::hir::NodeKind::Reduce { .. }));
    match reductions.nth(crate::MAX_STAGES) {
        Some(node) => Err(Error::new(
            ErrorKind::TooLarge,
            node.span,
            format!("too many reductions (the limit is {})", crate::MAX_STAGES),
        )),
        None => Ok(()),
    }
}

/// The expression's variables a program reads, by the program's input number.
fn read_variables(program: &Program) -> impl Iterator<Item = usize> + '_ {
    program.input_vars.iter().copied()
}

/// `a == b`, without a call to `memcmp` when they are one slice (the
/// common case on the per-call path: the shape was taken from the view).
fn same_shape(a: &[usize], b: &[usize]) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// The output slice as bytes for the kernels.
fn out_bytes<T: Element>(out: &mut [T]) -> &mut [u8] {
    // Each element type reinterprets its own slice (`Element` is sealed, so
    // these are the library's six and no others).
    <T as crate::array::sealed::Sealed>::bytes_mut(out)
}

/// NumPy's broadcast of two shapes.
fn broadcast_pair(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let mut joined = a.to_vec();
    broadcast_into(&mut joined, b).then_some(joined)
}

/// Broadcasts `shape` with `other` in place (NumPy's rule); false, leaving
/// `shape` as it was, when they do not broadcast.
fn broadcast_into(shape: &mut Vec<usize>, other: &[usize]) -> bool {
    let joins = |x: usize, y: usize| x == y || x == 1 || y == 1;
    let common = shape.len().min(other.len());
    let (ours, theirs) = (
        &shape[shape.len() - common..],
        &other[other.len() - common..],
    );
    if !ours.iter().zip(theirs).all(|(&x, &y)| joins(x, y)) {
        return false;
    }
    if other.len() > shape.len() {
        let grow = other.len() - shape.len();
        shape.splice(0..0, other[..grow].iter().copied());
    }
    let offset = shape.len() - common;
    for (x, &y) in shape[offset..].iter_mut().zip(theirs) {
        if *x == 1 {
            *x = y;
        }
    }
    true
}

/// How one input reaches the VM for an output of `shape`: contiguous typed
/// views in place, one element (converted if stored) splatted, anything else
/// gathered (and converted, for stored elements) block by block.
fn bind<'a>(value: &Value<'a>, shape: &[usize]) -> Option<Binding<'a>> {
    let view = match value {
        Value::Scalar(s) => return Some(Binding::Splat(s.to_bytes())),
        Value::Array(view) => view,
    };
    let width = view.dtype().itemsize();
    if view.len() == 1 {
        let mut element = vec![0; width];
        Gather::of_view(view, view.shape())?.gather(0, 1, &mut element);
        return Some(Binding::Splat(element));
    }
    if let Some(data) = view.data()
        && same_shape(view.shape(), shape)
        && view.is_c_contiguous()
    {
        let at = view.offset() * width;
        return Some(Binding::Dense(
            data.as_bytes().get(at..at + view.len() * width)?,
        ));
    }
    if view.format().is_some_and(|f| f.storage == Storage::Bool)
        && view.raw().is_none()
        && same_shape(view.shape(), shape)
        && view.is_c_contiguous()
    {
        // Stored bytes: the offset counts bytes, one a boolean.
        return Some(Binding::Booleans(
            view.bytes()
                .get(view.offset()..view.offset() + view.len())?,
        ));
    }
    Gather::of_view(view, shape).map(Binding::Gathered)
}
