//! Prints `docs/functions.md` from the function table:
//! `cargo run -p vexpr --example function_reference > docs/functions.md`.

fn main() {
    print!("{}", vexpr::unstable::reference_markdown());
}
