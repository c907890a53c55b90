//! Embeds `stdlib/*.rhai` (served as `import "std/<name>"`) into the binary, so a copied `kiln`
//! needs no files. (The shipped models, `load_model("std/<name>")`, are embedded by
//! `src/model/stdlib.rs` with `include_bytes!`.)

use std::fmt::Write as _;
use std::path::Path;

fn table(dir: &Path, ext: &str) -> String {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect()).unwrap_or_default();
    entries.retain(|p: &std::path::PathBuf| p.extension().and_then(|e| e.to_str()) == Some(ext));
    entries.sort();
    let mut s = String::from("&[\n");
    for p in entries {
        let name = p.file_stem().unwrap().to_string_lossy();
        let abs = p.canonicalize().unwrap();
        writeln!(s, "    ({name:?}, include_str!({:?})),", abs.display().to_string()).unwrap();
    }
    s.push(']');
    s
}

fn main() {
    // Read at run time: a compiled build script can be shared between checkouts of the crate.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir);
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("stdlib.rs");
    let code = format!(
        "/// Embedded stdlib modules: (name, source).\npub static MODULES: &[(&str, &str)] = {};\n",
        table(&root.join("stdlib"), "rhai")
    );
    std::fs::write(out, code).unwrap();
    println!("cargo:rerun-if-changed=stdlib");
}
