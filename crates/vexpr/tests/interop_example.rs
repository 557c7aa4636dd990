//! The `derived_column` example's logic on a tiny CSV file, and on a Parquet
//! file the test writes itself: the derived column is the plain path's
//! result, nulls where the columns read are null, and the files written
//! read back the same.

#[allow(dead_code)]
#[path = "../examples/derived_column.rs"]
mod derived_column;

use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A directory of this test's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("vexpr-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const CSV: &str = "\
px,py,n,ok
3.0,4.0,1,true
0.5,,2,false
-6.0,8.0,3,true
1.5,2.0,,true
";

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("column {name} of another type"))
}

/// The derived column of the CSV above, against the plain path.
fn check_derived(batch: &RecordBatch) {
    let pt = column::<Float64Array>(batch, "pt");
    let px = column::<Float64Array>(batch, "px");
    let py = column::<Float64Array>(batch, "py");
    let n = column::<Int64Array>(batch, "n");
    // The plain path over the values (nulls read as whatever is stored).
    let env = vexpr::Env::new()
        .with("px", px.values().as_ref())
        .with("py", py.values().as_ref())
        .with("n", n.values().as_ref());
    let want = vexpr::evaluate("sqrt(px**2 + py**2) * n", &env).unwrap();
    let want = want.as_slice::<f64>().unwrap();
    assert_eq!(pt.len(), 4);
    for (row, want) in want.iter().enumerate() {
        let null = px.is_null(row) || py.is_null(row) || n.is_null(row);
        assert_eq!(pt.is_null(row), null, "row {row}");
        if !null {
            assert_eq!(pt.value(row).to_bits(), want.to_bits(), "row {row}");
        }
    }
    assert_eq!(pt.value(0), 5.0);
    assert_eq!(pt.value(2), 30.0);
    assert_eq!(pt.null_count(), 2);
}

#[test]
fn a_csv_file_gets_its_derived_column() {
    let dir = Scratch::new("csv");
    let input = dir.path("events.csv");
    std::fs::write(&input, CSV).unwrap();
    let batch = derived_column::read_table(&input).unwrap();
    assert_eq!(batch.num_rows(), 4);
    let derived = derived_column::derive(&batch, "pt", "sqrt(px**2 + py**2) * n").unwrap();
    assert_eq!(derived.num_columns(), 5);
    check_derived(&derived);

    // Through the command line's own entry, into a CSV file read back.
    let output = dir.path("out.csv");
    let args: Vec<String> = [
        input.to_str().unwrap(),
        "pt",
        "sqrt(px**2 + py**2) * n",
        output.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    derived_column::run(&args).unwrap();
    let text = std::fs::read_to_string(&output).unwrap();
    assert_eq!(text.lines().next(), Some("px,py,n,ok,pt"));
    assert_eq!(text.lines().nth(1), Some("3.0,4.0,1,true,5.0"));
    let back = derived_column::read_table(&output).unwrap();
    check_derived(&back);

    // A boolean derived column from the boolean column.
    let cut = derived_column::derive(&batch, "pass", "ok & (px > 0)").unwrap();
    let pass = column::<BooleanArray>(&cut, "pass");
    assert_eq!(
        pass.iter().collect::<Vec<_>>(),
        [Some(true), Some(false), Some(false), Some(true)]
    );
}

#[test]
fn a_parquet_file_gets_its_derived_column() {
    let dir = Scratch::new("parquet");
    let input = dir.path("events.parquet");
    // The same table as the CSV, written as Parquet by this test, in two
    // row groups so that the reader gives more than one batch.
    let px: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(3.0),
        Some(0.5),
        Some(-6.0),
        Some(1.5),
    ]));
    let py: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(4.0),
        None,
        Some(8.0),
        Some(2.0),
    ]));
    let n: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(2), Some(3), None]));
    let table = RecordBatch::try_from_iter([("px", px), ("py", py), ("n", n)]).unwrap();
    {
        let file = std::fs::File::create(&input).unwrap();
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(2))
            .build();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(file, table.schema(), Some(props)).unwrap();
        writer.write(&table).unwrap();
        writer.close().unwrap();
    }
    let output = dir.path("out.parquet");
    let args: Vec<String> = [
        input.to_str().unwrap(),
        "pt",
        "sqrt(px**2 + py**2) * n",
        output.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    derived_column::run(&args).unwrap();
    let back = derived_column::read_table(&output).unwrap();
    assert_eq!(back.num_rows(), 4);
    check_derived(&back);

    // A reduction sees every row of the file, not one row group.
    let batch = derived_column::read_table(&input).unwrap();
    let share = derived_column::derive(&batch, "share", "px / sum(px)").unwrap();
    let share = column::<Float64Array>(&share, "share");
    assert_eq!(
        share.values().as_ref(),
        &[3.0 / -1.0, 0.5 / -1.0, -6.0 / -1.0, 1.5 / -1.0]
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let dir = Scratch::new("errors");
    let input = dir.path("events.csv");
    std::fs::write(&input, CSV).unwrap();
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        derived_column::run(&args).unwrap_err().to_string()
    };
    let path = input.to_str().unwrap();
    // A formula with a typo: vexpr's error, with the caret.
    let message = run(&[path, "pt", "sqrt(px**2 + pz**2)"]);
    assert!(message.contains("pz") && message.contains('^'), "{message}");
    // A reduction over a column with nulls.
    let message = run(&[path, "s", "sum(py)"]);
    assert!(message.contains("nulls"), "{message}");
    // Files it cannot read or write.
    let message = run(&[dir.path("missing.csv").to_str().unwrap(), "x", "1"]);
    assert!(message.contains("missing.csv"), "{message}");
    let message = run(&[path, "x", "px", dir.path("out.txt").to_str().unwrap()]);
    assert!(message.contains("not a .csv or .parquet"), "{message}");
    let message = run(&[path, "x"]);
    assert!(message.contains("usage"), "{message}");
    assert!(!Path::new(&dir.path("out.txt")).exists());
}
