//! The repository's invariants, checked on every `cargo test`.
//!
//! ARCHITECTURE.md states them; this file makes them hold.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Firmware crates by level. A crate may depend only on crates of lower
/// levels; crates on one level never depend on each other.
const LEVELS: &[(&str, u8)] = &[
    ("makara-media", 0),
    ("makara-board", 1),
    ("makara-config", 1),
    ("makara-store", 1),
    ("makara-framering", 1),
    ("makara-mpegts", 1),
    ("makara-capture", 2),
    ("makara-encode", 2),
    ("makara-engine", 2),
    ("makara-output", 2),
    ("makara-x264", 3),
    ("makara-v4l2", 3),
    ("makara-ffaudio", 3),
    ("makara-pipeline", 3),
    ("makara-access", 2),
    ("makara-supervisor", 3),
    ("makara-api", 4),
    ("makara-appliance", 5),
];

/// Crates outside the graph: tools and tests. Nothing may depend on them.
const OUTSIDE: &[&str] = &["makara-tidy", "makara-apibench"];

/// Third-party crates that speak HTTP, XML or JSON: only the API crate (and
/// the binary that starts its server, and test tools) may use them.
const WIRE_CRATES: &[&str] = &[
    "axum",
    "hyper",
    "hyper-util",
    "quick-xml",
    "serde_json",
    "tower",
];
const WIRE_ALLOWED: &[&str] = &["makara-api", "makara-apibench"];

/// Source files allowed to contain `unsafe` (FFI, ioctls, the frame ring).
/// Each must justify every block with a `// SAFETY:` comment.
const UNSAFE_ALLOWED: &[&str] = &["drivers/x264/src/ffi.rs", "drivers/v4l2/src/ioctl.rs"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Crate {
    name: String,
    dir: PathBuf,
    manifest: toml::Table,
}

fn members() -> Vec<Crate> {
    let text = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let workspace: toml::Table = text.parse().unwrap();
    workspace["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let dir = root().join(m.as_str().unwrap());
            let manifest: toml::Table = fs::read_to_string(dir.join("Cargo.toml"))
                .unwrap()
                .parse()
                .unwrap();
            let name = manifest["package"]["name"].as_str().unwrap().to_string();
            Crate {
                name,
                dir,
                manifest,
            }
        })
        .collect()
}

/// Names of normal and build dependencies (dev-dependencies are tests').
fn dependencies(c: &Crate) -> Vec<String> {
    ["dependencies", "build-dependencies"]
        .iter()
        .filter_map(|s| c.manifest.get(*s).and_then(|d| d.as_table()))
        .flat_map(|t| t.keys().cloned())
        .collect()
}

fn level(name: &str) -> Option<u8> {
    LEVELS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

#[test]
fn every_member_has_a_level_or_is_a_tool() {
    for c in members() {
        assert!(
            level(&c.name).is_some() || OUTSIDE.contains(&c.name.as_str()),
            "{} has no level: add it to LEVELS in tests/tidy/tests/tidy.rs and to ARCHITECTURE.md",
            c.name
        );
    }
}

#[test]
fn dependencies_point_down() {
    let members = members();
    let names: Vec<&str> = members.iter().map(|c| c.name.as_str()).collect();
    for c in &members {
        for dep in dependencies(c) {
            if !names.contains(&dep.as_str()) {
                continue;
            }
            assert!(
                !OUTSIDE.contains(&dep.as_str()),
                "{} depends on the tool {dep}",
                c.name
            );
            let Some(from) = level(&c.name) else { continue };
            let to = level(&dep).unwrap();
            assert!(
                to < from,
                "{} (level {from}) depends on {dep} (level {to}): dependencies must point down",
                c.name
            );
        }
    }
}

#[test]
fn only_the_api_knows_http_xml_and_json() {
    for c in members() {
        if WIRE_ALLOWED.contains(&c.name.as_str()) {
            continue;
        }
        for dep in dependencies(&c) {
            assert!(
                !WIRE_CRATES.contains(&dep.as_str()),
                "{} depends on {dep}; only makara-api may",
                c.name
            );
        }
    }
}

#[test]
fn every_member_uses_the_workspace_lints() {
    for c in members() {
        let workspace = c
            .manifest
            .get("lints")
            .and_then(|l| l.get("workspace"))
            .and_then(|w| w.as_bool());
        assert_eq!(
            workspace,
            Some(true),
            "{} lacks `[lints] workspace = true`",
            c.name
        );
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == "testdata")
            {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_sources() -> BTreeMap<String, String> {
    let mut files = Vec::new();
    for top in ["firmware", "board", "drivers", "tests"] {
        rust_files(&root().join(top), &mut files);
    }
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(root()).unwrap_or(&p).display().to_string();
            let rel = rel.trim_start_matches("../").to_string();
            (rel, fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// Code with comments and string literals blanked, so that words inside
/// them do not count.
fn code_only(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .map(|l| {
            let mut out = String::new();
            let mut in_string = false;
            for c in l.chars() {
                if c == '"' {
                    in_string = !in_string;
                }
                out.push(if in_string { ' ' } else { c });
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn unsafe_code_only_where_allowed() {
    for (path, text) in all_sources() {
        if path.contains("tests/tidy/") || UNSAFE_ALLOWED.iter().any(|a| path.ends_with(a)) {
            continue;
        }
        let code = code_only(&text);
        let has_unsafe = code
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|word| word == "unsafe");
        assert!(
            !has_unsafe,
            "{path} contains unsafe code; only {UNSAFE_ALLOWED:?} may"
        );
    }
}

/// Crates with an allow-listed module deny unsafe at the root and allow it
/// in that module only; every other crate forbids it outright.
#[test]
fn every_crate_root_forbids_unsafe() {
    for c in members() {
        let dir = c.dir.canonicalize().unwrap();
        let rel = dir
            .strip_prefix(root().canonicalize().unwrap())
            .unwrap()
            .display()
            .to_string();
        let opted_in = UNSAFE_ALLOWED
            .iter()
            .any(|a| a.starts_with(&format!("{rel}/")));
        let wanted = if opted_in {
            "#![deny(unsafe_code)]"
        } else {
            "#![forbid(unsafe_code)]"
        };
        for root_file in ["src/lib.rs", "src/main.rs"] {
            let path = c.dir.join(root_file);
            let Ok(text) = fs::read_to_string(&path) else {
                continue;
            };
            assert!(text.contains(wanted), "{} lacks {wanted}", path.display());
        }
    }
}

/// The opt-in itself may only appear in an allow-listed module.
#[test]
fn unsafe_is_allowed_only_in_listed_modules() {
    for (path, text) in all_sources() {
        if path.contains("tests/tidy/") || UNSAFE_ALLOWED.iter().any(|a| path.ends_with(a)) {
            continue;
        }
        assert!(
            !code_only(&text).contains("allow(unsafe_code)"),
            "{path} allows unsafe code"
        );
    }
}

#[test]
fn no_leftover_debugging_or_placeholders() {
    let banned = ["todo!(", "dbg!(", "unimplemented!("];
    for (path, text) in all_sources() {
        if path.contains("tests/tidy/") {
            continue;
        }
        let code = code_only(&text);
        for b in banned {
            assert!(!code.contains(b), "{path} contains {b}");
        }
    }
}

#[test]
fn top_level_layout() {
    for entry in [
        "Cargo.toml",
        "firmware",
        "board",
        "drivers",
        "image",
        "scripts",
        "tests",
        "README.md",
        "ARCHITECTURE.md",
    ] {
        assert!(
            root().join(entry).exists(),
            "{entry} is missing at the top level"
        );
    }
}

#[test]
fn architecture_names_every_crate() {
    let text = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    for c in members() {
        assert!(
            text.contains(&c.name),
            "ARCHITECTURE.md does not mention {}",
            c.name
        );
    }
}

#[test]
fn readme_starts_with_the_two_commands() {
    let text = fs::read_to_string(root().join("README.md")).unwrap();
    let run = text.find("scripts/run").expect("README names scripts/run");
    let test = text
        .find("scripts/test")
        .expect("README names scripts/test");
    let first_heading_after_title = text[1..].find("\n## ").map_or(usize::MAX, |i| i + 1);
    assert!(
        run < first_heading_after_title && test < first_heading_after_title,
        "the two commands come first"
    );
}
