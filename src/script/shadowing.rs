//! Refuses script functions that would replace a kiln built-in.
//!
//! Rhai looks up script functions before native ones, by name and argument count only, and a
//! module's functions run with their caller's functions still in scope. So a script that
//! defines `fn render(a, b)` also takes over `field.render(w, h)` (a method call with two
//! arguments) inside `std/materials`, which then returns a number and fails far from the cause.
//! kiln reports the definition instead, as a compile error at the `fn`.
//!
//! A script function with k parameters collides with a built-in of the same name taking k
//! arguments (called as `name(...)`) or k + 1 (called as `value.name(...)`); other arities are
//! overloads Rhai keeps apart, and are allowed.
//!
//! The check covers the script being run and the modules it imports from files; the stdlib's
//! public functions are exempt, as some are named after the built-in they build on
//! (`m::bricks` the material, `bricks` the pattern) and are only reached through `m::`.
//!
//! Owns: [`first_collision`], [`collisions`]. Must not know how errors are printed.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use rhai::AST;

/// A script function that would hide a built-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    pub message: String,
    /// 1-based line and column of the `fn` keyword, when it can be found in the text.
    pub line_col: Option<(usize, usize)>,
    /// Declared `private` (a module's helper rather than its API).
    pub private: bool,
}

/// The first function of `ast` (in definition order) that would hide one of kiln's built-ins.
pub fn first_collision(ast: &AST, text: &str) -> Option<Collision> {
    collisions(ast, text).into_iter().next()
}

/// Every function of `ast` that would hide one of kiln's built-ins, in definition order.
pub fn collisions(ast: &AST, text: &str) -> Vec<Collision> {
    let natives = native_arities();
    let mut found: Vec<Collision> = ast
        .iter_functions()
        .filter_map(|f| {
            let k = f.params.len();
            let arities = natives.get(f.name)?;
            let hidden = if arities.contains(&(k + 1)) {
                format!("`value.{}(…)` with {k} argument{}", f.name, if k == 1 { "" } else { "s" })
            } else if arities.contains(&k) {
                format!("`{}(…)` with {k} argument{}", f.name, if k == 1 { "" } else { "s" })
            } else {
                return None;
            };
            let message = format!(
                "fn {}({}) has the name of a kiln built-in and would replace its calls {hidden}, \
                 also inside the stdlib modules (script functions come first); rename it",
                f.name,
                f.params.join(", ")
            );
            let private = matches!(f.access, rhai::FnAccess::Private);
            Some(Collision { message, line_col: definition_position(text, f.name), private })
        })
        .collect();
    found.sort_by_key(|c| c.line_col);
    found
}

/// Name → the argument counts kiln registers under it (operators and property accessors
/// excluded: a script cannot define those).
fn native_arities() -> &'static HashMap<String, HashSet<usize>> {
    static TABLE: OnceLock<HashMap<String, HashSet<usize>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: HashMap<String, HashSet<usize>> = HashMap::new();
        for (_, functions) in crate::script::doc::registered_functions() {
            for f in &functions {
                let name = f["name"].as_str().unwrap_or("");
                if !name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') || name.contains('$') {
                    continue;
                }
                let params = f["numParams"].as_u64().unwrap_or(0) as usize;
                table.entry(name.to_string()).or_default().insert(params);
            }
        }
        table
    })
}

/// Where `fn name(` is written: the first line holding `fn`, the name and then `(`.
fn definition_position(text: &str, name: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let mut from = 0;
        while let Some(at) = line[from..].find("fn ") {
            let start = from + at;
            let rest = line[start + 3..].trim_start();
            let before_ok = start == 0 || !line[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            if before_ok {
                if let Some(after) = rest.strip_prefix(name) {
                    if after.trim_start().starts_with('(') {
                        return Some((i + 1, line[..start].chars().count() + 1));
                    }
                }
            }
            from = start + 3;
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Engine;

    fn check(text: &str) -> Option<Collision> {
        let ast = Engine::new_raw().compile(text).unwrap();
        first_collision(&ast, text)
    }

    #[test]
    fn method_and_function_arities_collide_others_do_not() {
        // Field.render(w, h) is native render(field, w, h): 3 arguments
        let c = check("let x = 1;\n  fn render(a, b) { a + b }\n").unwrap();
        assert_eq!(c.line_col, Some((2, 3)));
        assert!(
            c.message.contains("fn render(a, b)") && c.message.contains("`value.render(…)` with 2 arguments"),
            "{}",
            c.message
        );
        // fill(image, colour) is a function call with 2 arguments
        assert!(check("fn fill(a, b) { a }").unwrap().message.contains("argument"));
        assert_eq!(check("fn render() { 1 }\nfn my_render(a, b) { a }"), None);
        assert_eq!(check("fn rendering(a, b) { a }"), None);
    }

    /// A stdlib module's public functions may share a built-in's name: `m::bricks(o)` is the
    /// material, `bricks(o)` the pattern, and the module is written knowing that. Its private
    /// helpers must not, since a module's functions stay in scope when it calls another module.
    #[test]
    fn stdlib_helpers_hide_no_builtin() {
        for name in crate::script::resolver::stdlib_names() {
            let text = crate::script::resolver::stdlib_source(name).unwrap();
            let ast = Engine::new_raw().compile(text).unwrap();
            let private: Vec<_> = collisions(&ast, text).into_iter().filter(|c| c.private).collect();
            assert!(private.is_empty(), "std/{name}: {private:?}");
        }
    }
}
