//! The params a script reads, found before it runs: every `param("literal", ...)` call in the
//! script, its functions, and the file modules it imports (their imports too).
//!
//! Owns: [`param_names`]. Must not know how a caller reports unknown `--set` names.
//!
//! Rhai's `AST::walk` and `Expr` are public only with its `internals` feature, which kiln does not
//! enable (it exposes unstable types). The one public view of the whole compiled tree is the
//! AST's `Debug` text, which names each call (`FnCallExpr { .., name: "param", args: [..] }`) and
//! each import (`Import(("lib/util" @ 1:8, ..), ..)`) with its arguments as Rust string literals.
//! The scan reads that text and refuses to guess: a `param` call whose name is not a literal
//! (`param(n, 1)`, `"r".param(1)`, `call(Fn("param"), ..)`), an import of a computed path, a
//! module that cannot be read or compiled, or a `"param"` anywhere it cannot account for makes it
//! answer `None`, and the caller checks the names after the run instead.

use std::path::{Path, PathBuf};

use rhai::{Engine, AST};

use crate::script::context::normalize;

const CALL: &str = "name: \"param\", args: [";
const IMPORT: &str = "Import((";

/// The names of the params `ast` (compiled from the script at `script`) and the file modules it
/// imports read, sorted and without repeats; `None` when a static scan cannot tell.
pub fn param_names(engine: &Engine, ast: &AST, script: &Path) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut seen = Vec::new();
    scan(engine, ast, script.parent().unwrap_or(Path::new(".")), &mut names, &mut seen)?;
    names.sort();
    names.dedup();
    Some(names)
}

fn scan(engine: &Engine, ast: &AST, dir: &Path, names: &mut Vec<String>, seen: &mut Vec<PathBuf>) -> Option<()> {
    let text = format!("{ast:?}");
    let (calls, found) = literal_args(&text, CALL)?;
    // Every "param" in the text must be a call the scan read: anything else (`Fn("param")`, a
    // future Debug layout) means the scan cannot account for all of them.
    if text.matches("\"param\"").count() != calls {
        return None;
    }
    names.extend(found);
    for module in literal_args(&text, IMPORT)?.1 {
        if module.starts_with("std/") {
            // The stdlib reads no params.
            continue;
        }
        let mut file = dir.join(&module);
        if file.extension().is_none() {
            file.set_extension("rhai");
        }
        let file = normalize(&file);
        if seen.contains(&file) {
            continue;
        }
        seen.push(file.clone());
        let source = std::fs::read_to_string(&file).ok()?;
        let module_ast = engine.compile(&source).ok()?;
        scan(engine, &module_ast, file.parent().unwrap_or(Path::new(".")), names, seen)?;
    }
    Some(())
}

/// The string literal that follows each `marker` in `text`, and how many markers there were;
/// `None` if one is followed by anything else.
fn literal_args(text: &str, marker: &str) -> Option<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut count = 0;
    for (at, _) in text.match_indices(marker) {
        count += 1;
        out.push(debug_string(&text[at + marker.len()..])?);
    }
    Some((count, out))
}

/// Reads the Rust `Debug` string literal at the start of `text`.
fn debug_string(text: &str) -> Option<String> {
    let mut chars = text.strip_prefix('"')?.chars();
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '0' => out.push('\0'),
                'u' => {
                    let rest = chars.as_str().strip_prefix('{')?;
                    let end = rest.find('}')?;
                    out.push(char::from_u32(u32::from_str_radix(&rest[..end], 16).ok()?)?);
                    chars = rest[end + 1..].chars();
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path, text: &str) -> Option<Vec<String>> {
        let engine = Engine::new();
        let script = dir.join("main.rhai");
        param_names(&engine, &engine.compile(text).unwrap(), &script)
    }

    #[test]
    fn finds_literal_params_in_the_script_its_functions_and_strings() {
        let dir = tempfile::tempdir().unwrap();
        let text = r#"
            let r = param("radius", 3.0, #{ min: 1 });
            fn f(x) { param("inner \"q\"", x) }
            let s = `${param("interp", 1)}`;
            // param("in_a_comment", 1)
            let t = "param(\"in_a_string\", 1)";
            param("radius", 4.0)
        "#;
        assert_eq!(names(dir.path(), text), Some(vec!["inner \"q\"".into(), "interp".into(), "radius".into()]));
        assert_eq!(names(dir.path(), "image(2, 2)"), Some(vec![]));
    }

    #[test]
    fn a_name_it_cannot_read_means_it_cannot_tell() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(names(dir.path(), r#"let n = "x"; param(n, 1)"#), None);
        assert_eq!(names(dir.path(), r#""r".param(1)"#), None);
        assert_eq!(names(dir.path(), r#"call(Fn("param"), "z", 1)"#), None);
        assert_eq!(names(dir.path(), r#"let m = "lib"; import m as l; 1"#), None);
        assert_eq!(names(dir.path(), r#"import "missing" as l; 1"#), None);
    }

    #[test]
    fn follows_imported_file_modules() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("lib/a.rhai"), "import \"b\" as b;\nfn k() { param(\"from_a\", 1) }\n").unwrap();
        std::fs::write(dir.path().join("lib/b.rhai"), "import \"a\" as a;\nfn j() { param(\"from_b\", 1) }\n").unwrap();
        let text = "import \"lib/a\" as a;\nimport \"std/materials\" as m;\nparam(\"top\", 2)\n";
        assert_eq!(names(dir.path(), text), Some(vec!["from_a".into(), "from_b".into(), "top".into()]));
    }
}
