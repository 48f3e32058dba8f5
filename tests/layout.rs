//! The layout rules the code keeps (house style): no source file over 800 lines and no
//! function over 80, in the generator and the runtime. Measured on the parsed source, so a
//! brace inside a string or comment cannot fool the count.

use std::path::{Path, PathBuf};

use syn::spanned::Spanned;

const MAX_FILE_LINES: usize = 800;
const MAX_FN_LINES: usize = 80;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(name, first line, line count)` of every function, method and default trait method.
fn functions(items: &[syn::Item], out: &mut Vec<(String, usize, usize)>) {
    fn push(out: &mut Vec<(String, usize, usize)>, name: &syn::Ident, span: proc_macro2::Span) {
        let (start, end) = (span.start().line, span.end().line);
        out.push((name.to_string(), start, end - start + 1));
    }
    for item in items {
        match item {
            syn::Item::Fn(f) => push(out, &f.sig.ident, f.span()),
            syn::Item::Impl(i) => {
                for it in &i.items {
                    if let syn::ImplItem::Fn(f) = it {
                        push(out, &f.sig.ident, f.span());
                    }
                }
            }
            syn::Item::Trait(t) => {
                for it in &t.items {
                    if let syn::TraitItem::Fn(f) = it {
                        push(out, &f.sig.ident, f.span());
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    functions(inner, out);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn no_file_over_800_lines_and_no_function_over_80() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "runtime/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() > 20, "the walk found the sources: {files:?}");
    let mut problems = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let shown = path.strip_prefix(root).unwrap().display();
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            problems.push(format!("{shown}: {lines} lines"));
        }
        let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{shown}: {e}"));
        let mut fns = Vec::new();
        functions(&file.items, &mut fns);
        for (name, line, count) in fns {
            if count > MAX_FN_LINES {
                problems.push(format!("{shown}:{line}: fn {name} is {count} lines"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
