//! The repository's invariants, checked on every `cargo test`.
//!
//! ARCHITECTURE.md states them; this file makes them hold.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The crates' levels are written once, in ARCHITECTURE.md's code map;
/// these tests read them from there.
const LEVEL_TABLE: &str = "ARCHITECTURE.md";

/// The crate every test may share, and only tests: crates with a level may
/// take it as a dev-dependency, never as a normal one.
const TEST_SUPPORT: &str = "makara-test-support";

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

/// Source files allowed to contain `unsafe` (FFI, ioctls, mapped capture buffers).
/// Each must justify every block with a `// SAFETY:` comment.
const UNSAFE_ALLOWED: &[&str] = &[
    "drivers/x264/src/ffi.rs",
    "drivers/ffvideo/src/hwdevice.rs",
    "drivers/srt/src/ffi.rs",
    "drivers/decklink/src/ffi.rs",
    "drivers/decklink/src/ffi/buffers.rs",
    "drivers/decklink/src/ffi/input.rs",
    "drivers/v4l2/src/ioctl.rs",
    "drivers/v4l2/src/buffers.rs",
];

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

/// One row of the code map: a crate, its directory, and its level (`None`
/// for the tools and tests outside the levels, written `–`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    name: String,
    dir: String,
    level: Option<u8>,
}

/// The rows of the first table in `text` whose header starts with
/// `| level | crate | directory |`.
fn code_map(text: &str) -> Vec<Row> {
    let mut lines = text.lines().skip_while(|l| {
        let cells = cells(l);
        cells.len() < 3 || cells[..3] != ["level", "crate", "directory"]
    });
    assert!(
        lines.next().is_some(),
        "{LEVEL_TABLE} has no `| level | crate | directory |` table"
    );
    lines
        .skip(1) // the |---| line
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells = cells(l);
            let level = match cells[0] {
                "–" | "-" => None,
                n => Some(n.parse().unwrap_or_else(|_| {
                    panic!("{LEVEL_TABLE}: level {n:?} is neither a number nor –")
                })),
            };
            Row {
                name: cells[1].trim_matches('`').to_owned(),
                dir: cells[2].trim_matches('`').to_owned(),
                level,
            }
        })
        .collect()
}

fn cells(line: &str) -> Vec<&str> {
    let inner = line
        .trim()
        .strip_prefix('|')
        .and_then(|l| l.strip_suffix('|'));
    inner.map_or_else(Vec::new, |l| l.split('|').map(str::trim).collect())
}

fn levels() -> Vec<Row> {
    code_map(&fs::read_to_string(root().join(LEVEL_TABLE)).unwrap())
}

/// What breaks the level rules in the normal dependencies of `members`
/// (name, dependencies): one that does not point down, or one into the
/// tools and tests outside the levels.
fn level_violations(members: &[(String, Vec<String>)], rows: &[Row]) -> Vec<String> {
    let row = |name: &str| rows.iter().find(|r| r.name == name);
    let mut found = Vec::new();
    for (name, deps) in members {
        let Some(from) = row(name).and_then(|r| r.level) else {
            continue; // tools outside the levels may use anything
        };
        for dep in deps {
            let Some(target) = row(dep) else { continue };
            match target.level {
                None => found.push(format!(
                    "{name} depends on {dep}, which is outside the levels (a test or tool)"
                )),
                Some(to) if to >= from => found.push(format!(
                    "{name} (level {from}) depends on {dep} (level {to}): dependencies must point down"
                )),
                Some(_) => {}
            }
        }
    }
    found
}

#[test]
fn every_member_is_in_the_code_map_with_its_directory() {
    let rows = levels();
    for c in members() {
        let row = rows.iter().find(|r| r.name == c.name).unwrap_or_else(|| {
            panic!(
                "{} is not in the code map of {LEVEL_TABLE}: add a row with its level",
                c.name
            )
        });
        assert_eq!(
            root().join(&row.dir).canonicalize().ok(),
            c.dir.canonicalize().ok(),
            "{LEVEL_TABLE} puts {} in {}",
            c.name,
            row.dir
        );
    }
}

#[test]
fn dependencies_point_down() {
    let members: Vec<(String, Vec<String>)> = members()
        .iter()
        .map(|c| (c.name.clone(), dependencies(c)))
        .collect();
    let found = level_violations(&members, &levels());
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The rule itself, on a made-up table: a parser that found no rows must
/// not make `dependencies_point_down` pass by checking nothing.
#[test]
fn the_level_rule_catches_what_points_up() {
    let table = "\
| level | crate | directory | what it is |
|---|---|---|---|
| 0 | `low` | `a` | x |
| 1 | `mid` | `b` | x |
| 1 | `peer` | `c` | x |
| – | `tool` | `d` | x |
";
    let rows = code_map(table);
    assert_eq!(rows.len(), 4);
    let deps = |name: &str, on: &[&str]| {
        let on = on.iter().map(|d| (*d).to_owned()).collect::<Vec<_>>();
        (name.to_owned(), on)
    };
    let fine = [deps("mid", &["low"]), deps("tool", &["mid", "peer"])];
    assert!(level_violations(&fine, &rows).is_empty());
    for wrong in [
        deps("low", &["mid"]),
        deps("mid", &["peer"]),
        deps("mid", &["tool"]),
    ] {
        let found = level_violations(std::slice::from_ref(&wrong), &rows);
        assert_eq!(found.len(), 1, "{wrong:?}");
    }
}

#[test]
fn the_code_map_has_every_crate() {
    let rows = levels();
    // A parser that stopped early would leave crates unchecked.
    let leveled = rows.iter().filter(|r| r.level.is_some()).count();
    assert!(
        leveled >= members().len() - 4,
        "only {leveled} crates have a level in {LEVEL_TABLE}"
    );
    assert!(rows
        .iter()
        .any(|r| r.name == TEST_SUPPORT && r.level.is_none()));
}

/// Test support needs nothing of the firmware, so a crate of any level
/// can take it as a dev-dependency (that it is never a normal one is
/// `dependencies_point_down`'s rule about crates outside the levels).
#[test]
fn test_support_depends_on_no_makara_crate() {
    let support = members().into_iter().find(|c| c.name == TEST_SUPPORT);
    let support = support.expect("the workspace has the test-support crate");
    let ours: Vec<String> = dependencies(&support)
        .into_iter()
        .filter(|d| d.starts_with("makara-"))
        .collect();
    assert!(ours.is_empty(), "{TEST_SUPPORT} depends on {ours:?}");
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

/// A driver's kernel ABI and raw calls are its own business: the binary
/// uses what the driver offers (for the service command, `service`).
#[test]
fn the_binary_does_not_reach_into_driver_internals() {
    let internals = ["makara_v4l2::sys", "makara_v4l2::calls"];
    for (path, text) in all_sources() {
        if !path.starts_with("firmware/appliance/") {
            continue;
        }
        let code: String = code_only(&text).split_whitespace().collect();
        for internal in internals {
            assert!(!code.contains(internal), "{path} uses {internal}");
        }
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
