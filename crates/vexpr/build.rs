//! Generates the parser from `grammar/vexpr.lalrpop` (the workspace's top-level
//! `grammar/` folder, reached through the `crates/vexpr/grammar` symlink so that
//! `cargo package` still finds it).

fn main() {
    println!("cargo:rerun-if-changed=grammar/vexpr.lalrpop");
    lalrpop::Configuration::new()
        .set_in_dir("grammar")
        .set_out_dir(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .process()
        .expect("the grammar in grammar/vexpr.lalrpop must compile");
}
