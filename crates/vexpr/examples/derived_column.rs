//! A derived column: evaluates a formula given by the user over the columns
//! of a CSV or Parquet file, and writes the file's columns and the new one.
//!
//! ```sh
//! cargo run --release --example derived_column --features arrow-csv,parquet -- \
//!     events.csv pt "sqrt(px**2 + py**2)"               # CSV to standard output
//! cargo run --release --example derived_column --features arrow-csv,parquet -- \
//!     events.parquet pass "(pt > 20) & (abs(eta) < 2.5)" selected.parquet
//! ```
//!
//! In: a `.csv` file with a header line (column types inferred by Arrow's
//! CSV reader: integers, floats, booleans; empty cells are nulls) or a
//! `.parquet` file, the new column's name and its formula. Out: every column
//! and the new one, as CSV on standard output or into a `.csv` or
//! `.parquet` file. The formula's variables are the columns, by name; a null
//! in any column it reads is a null of the new column. The file is read as
//! one batch, so that reductions (`x - sum(x) / 100`) see every row.

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema};
use std::error::Error;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

/// The whole file at `path` (`.csv` or `.parquet`) as one batch.
pub fn read_table(path: &Path) -> Result<RecordBatch, Box<dyn Error>> {
    let mut file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let batches: Vec<RecordBatch> = match extension(path)? {
        Kind::Csv => {
            let format = arrow_csv::reader::Format::default().with_header(true);
            let (schema, _) = format.infer_schema(&mut file, None)?;
            file.seek(SeekFrom::Start(0))?;
            arrow_csv::ReaderBuilder::new(Arc::new(schema))
                .with_header(true)
                .build(file)?
                .collect::<Result<_, _>>()?
        }
        Kind::Parquet => {
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)?
                .build()?
                .collect::<Result<_, _>>()?
        }
    };
    let schema = match batches.first() {
        Some(batch) => batch.schema(),
        None => return Err(format!("{}: no rows", path.display()).into()),
    };
    Ok(arrow_select::concat::concat_batches(&schema, &batches)?)
}

/// `batch` with one more column, `name`, computed by `formula` from its
/// columns (nullable: null where a column the formula reads is null).
pub fn derive(batch: &RecordBatch, name: &str, formula: &str) -> Result<RecordBatch, vexpr::Error> {
    let column = vexpr::interop::arrow::evaluate(formula, batch)?;
    let mut fields: Vec<Arc<Field>> = batch.schema().fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new(name, column.data_type().clone(), true)));
    let mut columns = batch.columns().to_vec();
    columns.push(column);
    // Cannot fail: the new column has the batch's length and a nullable
    // field of its own type.
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| {
        vexpr::Error::new(
            vexpr::ErrorKind::Input,
            vexpr::Span::default(),
            e.to_string(),
        )
    })
}

/// Writes `batch` to `path` (`.csv` or `.parquet`), or as CSV to standard
/// output.
pub fn write_table(batch: &RecordBatch, path: Option<&Path>) -> Result<(), Box<dyn Error>> {
    let Some(path) = path else {
        let mut writer = arrow_csv::Writer::new(std::io::stdout().lock());
        return Ok(writer.write(batch)?);
    };
    let kind = extension(path)?;
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match kind {
        Kind::Csv => arrow_csv::Writer::new(file).write(batch)?,
        Kind::Parquet => {
            let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)?;
            writer.write(batch)?;
            writer.close()?;
        }
    }
    Ok(())
}

enum Kind {
    Csv,
    Parquet,
}

fn extension(path: &Path) -> Result<Kind, Box<dyn Error>> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => Ok(Kind::Csv),
        Some("parquet") => Ok(Kind::Parquet),
        _ => Err(format!("{}: not a .csv or .parquet file", path.display()).into()),
    }
}

/// `derived_column INPUT NAME FORMULA [OUTPUT]`.
pub fn run(args: &[String]) -> Result<(), Box<dyn Error>> {
    let [input, name, formula, rest @ ..] = args else {
        return Err(
            "usage: derived_column INPUT.{csv,parquet} NAME FORMULA [OUTPUT.{csv,parquet}]".into(),
        );
    };
    let output = match rest {
        [] => None,
        [output] => Some(Path::new(output)),
        _ => return Err("one output file at most".into()),
    };
    let batch = read_table(Path::new(input))?;
    // The caret report: the formula is the user's, and the error points into it.
    let derived = derive(&batch, name, formula).map_err(|e| e.rendered())?;
    write_table(&derived, output)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(error) = run(&args) {
        // vexpr's errors render the formula with a caret under the place.
        eprintln!("{error}");
        std::process::exit(1);
    }
}
