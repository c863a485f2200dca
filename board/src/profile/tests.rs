//! Profiles: the built-in files, every rule of validation, and selection
//! from fixture trees.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::*;
use crate::test_tree::fixture;

const QEMU_X86: &str = include_str!("../../profiles/qemu-x86_64.toml");
const FILE: &str = "board/profiles/qemu-x86_64.toml";

fn profiles_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles")
}

#[test]
fn every_profile_file_is_built_in_and_valid() {
    let on_disk: BTreeSet<String> = fs::read_dir(profiles_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let built_in: BTreeSet<String> = BUILTIN.iter().map(|(f, _)| (*f).to_owned()).collect();
    assert_eq!(on_disk, built_in, "board/profiles and BUILTIN differ");
    for (file, text) in BUILTIN {
        let from_disk = fs::read_to_string(profiles_dir().join(file)).unwrap();
        assert_eq!(&from_disk, text, "{file}");
    }
    let profiles = builtin().unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "qemu-x86_64",
            "qemu-aarch64",
            "raspberrypi-5",
            "generic-x86_64",
            "generic-aarch64"
        ]
    );
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let fallbacks = profiles
            .iter()
            .filter(|p| p.arch == arch && p.recognise == Recognise::Fallback)
            .count();
        assert_eq!(fallbacks, 1, "{arch:?}");
    }
}

#[test]
fn the_qemu_profile_reads_as_written() {
    let profile = parse(FILE, QEMU_X86).unwrap();
    assert_eq!(profile.arch, Arch::X86_64);
    assert_eq!(profile.serial_console, "ttyS0");
    assert_eq!(profile.watchdog, Some(PathBuf::from("/dev/watchdog")));
    assert_eq!(profile.front_panel, Some(PathBuf::from("/dev/ttyS1")));
    assert_eq!(profile.leds, LedNames::default());
    assert_eq!(
        profile.limits,
        Limits {
            max_streams: 4,
            max_width: 1920,
            max_height: 1080
        }
    );
    let [vivid] = profile.capture.as_slice() else {
        panic!("{:?}", profile.capture)
    };
    assert_eq!(
        vivid.find,
        CaptureFind::Driver {
            driver: "vivid".to_owned(),
            card: None
        }
    );
    assert_eq!(vivid.ports.len(), 4);
    assert_eq!(vivid.ports[3].label, "HDMI");
}

#[test]
fn patterns_match_names_and_prefixes() {
    let exact = Pattern("eth0".to_owned());
    let prefix = Pattern("en*".to_owned());
    assert!(exact.matches("eth0") && !exact.matches("eth01"));
    assert!(prefix.matches("enp1s0") && prefix.matches("en") && !prefix.matches("eth0"));
}

/// The QEMU profile with `path` (dotted; `[N]` indexes an array) set to
/// `value`, or removed when `value` is `None`.
fn edited(path: &str, value: Option<Value>) -> String {
    let mut table: Table = QEMU_X86.parse().unwrap();
    let (parents, last) = path.rsplit_once('.').map_or(("", path), |(p, l)| (p, l));
    let mut here = &mut table;
    for part in parents.split('.').filter(|p| !p.is_empty()) {
        let entry = match part.split_once('[') {
            Some((key, index)) => {
                let index: usize = index.trim_end_matches(']').parse().unwrap();
                &mut here[key].as_array_mut().unwrap()[index]
            }
            None => here
                .entry(part)
                .or_insert_with(|| Value::Table(Table::new())),
        };
        here = entry.as_table_mut().unwrap();
    }
    match value {
        Some(v) => here.insert(last.to_owned(), v),
        None => here.remove(last),
    };
    toml::to_string(&table).unwrap()
}

fn s(text: &str) -> Option<Value> {
    Some(Value::String(text.to_owned()))
}

fn n(number: i64) -> Option<Value> {
    Some(Value::Integer(number))
}

fn strings(items: &[&str]) -> Option<Value> {
    Some(Value::Array(
        items
            .iter()
            .map(|i| Value::String((*i).to_owned()))
            .collect(),
    ))
}

#[test]
fn every_bad_field_is_named_with_its_rule() {
    let cases: Vec<(&str, Option<Value>, &str, &str)> = vec![
        // (path, new value, field named, part of the rule)
        ("name", None, "name", "is required"),
        ("name", s("Qemu"), "name", "a-z, 0-9, '-' and '_'"),
        ("name", s("qemu-aarch64"), "name", "the file's name"),
        ("description", s(""), "description", "1-80 characters"),
        (
            "description",
            s(&"x".repeat(81)),
            "description",
            "1-80 characters",
        ),
        ("arch", s("riscv64"), "arch", "x86_64 or aarch64"),
        ("nics", strings(&[]), "nics", "1-8 names"),
        (
            "nics",
            strings(&["eth0", "a-name-too-long-0"]),
            "nics[1]",
            "1-15 characters",
        ),
        ("nics", strings(&["e*th"]), "nics[0]", "'*' may only end"),
        (
            "nics",
            strings(&["eth 0"]),
            "nics[0]",
            "may not contain ' '",
        ),
        (
            "nics",
            strings(&["a", "b", "c", "d", "e", "f", "g", "h", "i"]),
            "nics",
            "at most 8",
        ),
        (
            "serial_console",
            s("/dev/ttyS0"),
            "serial_console",
            "may not contain '/'",
        ),
        ("serial_console", None, "serial_console", "is required"),
        (
            "front_panel",
            s("ttyS1"),
            "front_panel",
            "none or a path under /dev/",
        ),
        (
            "front_panel",
            s("/dev/../etc/passwd"),
            "front_panel",
            "no '..'",
        ),
        (
            "watchdog",
            s("/dev/"),
            "watchdog",
            "none or a path under /dev/",
        ),
        ("watchdog", None, "watchdog", "is required"),
        (
            "recognise.dmi_sys_vendor",
            strings(&[]),
            "recognise",
            "dmi_sys_vendor or dt_compatible",
        ),
        (
            "recognise.fallback",
            Some(Value::Boolean(true)),
            "recognise",
            "names no dmi_*",
        ),
        (
            "recognise.dmi_sys_vendor",
            strings(&["QE*MU"]),
            "recognise.dmi_sys_vendor[0]",
            "'*' may only end",
        ),
        (
            "recognise.dt_compatible",
            strings(&["linux,*"]),
            "recognise.dt_compatible[0]",
            "may not contain '*'",
        ),
        (
            "recognise.dmi_product_name",
            strings(&[""]),
            "recognise.dmi_product_name[0]",
            "1-64 characters",
        ),
        ("recognise", None, "recognise", "is required"),
        ("capture[0].driver", None, "capture[0]", "needs driver"),
        (
            "capture[0].device",
            s("/dev/video0"),
            "capture[0]",
            "not both",
        ),
        (
            "capture[0].driver",
            s("viv id"),
            "capture[0].driver",
            "may not contain ' '",
        ),
        (
            "capture[0].card",
            s(&"c".repeat(33)),
            "capture[0].card",
            "1-32 characters",
        ),
        (
            "capture[0].ports[1].input",
            n(0),
            "capture[0].ports[1].input",
            "listed twice",
        ),
        (
            "capture[0].ports[2].input",
            n(256),
            "capture[0].ports[2].input",
            "out of range (0-255)",
        ),
        (
            "capture[0].ports[2].input",
            n(-1),
            "capture[0].ports[2].input",
            "out of range (0-255)",
        ),
        (
            "capture[0].ports[3].input",
            None,
            "capture[0].ports[3].input",
            "is required",
        ),
        (
            "capture[0].ports[0].label",
            s(""),
            "capture[0].ports[0].label",
            "1-32 characters",
        ),
        ("leds.power", s("a/b"), "leds.power", "may not contain '/'"),
        ("leds.alarm", s(".."), "leds.alarm", "not an LED name"),
        ("leds.stream", None, "leds.stream", "is required"),
        ("leds", None, "leds", "is required"),
        (
            "limits.max_streams",
            n(0),
            "limits.max_streams",
            "out of range (1-64)",
        ),
        (
            "limits.max_streams",
            n(65),
            "limits.max_streams",
            "out of range (1-64)",
        ),
        (
            "limits.max_width",
            n(3842),
            "limits.max_width",
            "out of range (16-3840)",
        ),
        (
            "limits.max_width",
            n(1279),
            "limits.max_width",
            "must be even",
        ),
        (
            "limits.max_height",
            n(8),
            "limits.max_height",
            "out of range (16-2160)",
        ),
        (
            "limits.max_height",
            None,
            "limits.max_height",
            "is required",
        ),
    ];
    for (path, value, field, rule) in cases {
        let text = edited(path, value.clone());
        let error = parse(FILE, &text).expect_err(&format!("{path} = {value:?} was accepted"));
        assert_eq!(error.field(), Some(field), "{path} = {value:?}: {error}");
        let message = error.to_string();
        assert!(message.starts_with(FILE), "{message}");
        assert!(
            message.contains(rule),
            "{path} = {value:?}: '{message}' lacks '{rule}'"
        );
    }
}

#[test]
fn rules_that_span_fields() {
    // A product name without a vendor; a card with a device; one LED for two roles.
    let mut table: Table = QEMU_X86.parse().unwrap();
    table["recognise"] =
        toml::toml! { dmi_product_name = ["x"] dt_compatible = ["linux,dummy-virt"] }.into();
    let error = parse(FILE, &toml::to_string(&table).unwrap()).unwrap_err();
    assert_eq!(error.field(), Some("recognise.dmi_product_name"), "{error}");

    let text = edited("capture[0].driver", None).replace(
        "[[capture]]",
        "[[capture]]\ndevice = \"/dev/video0\"\ncard = \"x\"",
    );
    let error = parse(FILE, &text).unwrap_err();
    assert_eq!(error.field(), Some("capture[0].card"), "{error}");

    let text = edited("leds.power", s("PWR")).replace("alarm = \"none\"", "alarm = \"PWR\"");
    let error = parse(FILE, &text).unwrap_err();
    assert_eq!(error.field(), Some("leds.alarm"), "{error}");
    assert!(error.to_string().contains("already leds.power"), "{error}");
}

#[test]
fn unknown_keys_and_wrong_types_are_syntax_errors_naming_the_key() {
    let cases = [
        (
            QEMU_X86.replace("[limits]", "[limits]\nmax_fps = 60"),
            "max_fps",
        ),
        (QEMU_X86.replace("name = ", "nmae = \"x\"\nname = "), "nmae"),
        (
            QEMU_X86.replace("max_streams = 4", "max_streams = \"4\""),
            "max_streams",
        ),
        (format!("{QEMU_X86}\n[extra]\n"), "extra"),
    ];
    for (text, key) in cases {
        let error = parse(FILE, &text).unwrap_err();
        assert!(matches!(error, ProfileError::Syntax { .. }), "{error}");
        let message = error.to_string();
        assert!(
            message.contains(key) && message.contains("(line "),
            "{message}"
        );
    }
}

fn machine(tree: &str, arch: &str) -> Machine {
    Machine::read(&fixture(&format!("machines/{tree}")), arch)
}

fn chosen(explicit: Option<&str>, machine: &Machine) -> Result<String, ProfileError> {
    select_from(&builtin().unwrap(), explicit, machine).map(|p| p.name)
}

#[test]
fn machines_are_read_from_dmi_and_the_device_tree() {
    let qemu = machine("qemu-x86_64", "x86_64");
    assert_eq!(qemu.dmi_sys_vendor.as_deref(), Some("QEMU"));
    assert_eq!(
        qemu.dmi_product_name.as_deref(),
        Some("Standard PC (Q35 + ICH9, 2009)")
    );
    assert!(qemu.dt_compatible.is_empty());
    let pi = machine("raspberrypi-5", "aarch64");
    assert_eq!(pi.dt_compatible, ["raspberrypi,5-model-b", "brcm,bcm2712"]);
    assert_eq!(pi.dmi_sys_vendor, None);
    let nothing = Machine::read(Path::new("/nonexistent"), "x86_64");
    assert_eq!(
        nothing,
        Machine {
            arch: "x86_64".to_owned(),
            ..Machine::default()
        }
    );
}

#[test]
fn boards_are_chosen_by_dmi_and_device_tree_else_by_fallback() {
    let cases = [
        ("qemu-x86_64", "x86_64", "qemu-x86_64"),
        ("pc", "x86_64", "generic-x86_64"),
        ("qemu-aarch64", "aarch64", "qemu-aarch64"),
        ("raspberrypi-5", "aarch64", "raspberrypi-5"),
        ("rock-5b", "aarch64", "generic-aarch64"),
        // DMI says QEMU, but the profile is for x86_64 only.
        ("qemu-x86_64", "aarch64", "generic-aarch64"),
    ];
    for (tree, arch, expected) in cases {
        assert_eq!(
            chosen(None, &machine(tree, arch)).unwrap(),
            expected,
            "{tree} on {arch}"
        );
    }
}

#[test]
fn an_explicit_board_wins_and_must_exist() {
    let qemu = machine("qemu-x86_64", "x86_64");
    assert_eq!(
        chosen(Some("generic-x86_64"), &qemu).unwrap(),
        "generic-x86_64"
    );
    // Whatever its architecture: the operator knows.
    assert_eq!(
        chosen(Some("raspberrypi-5"), &qemu).unwrap(),
        "raspberrypi-5"
    );
    let error = chosen(Some("rpi5"), &qemu).unwrap_err();
    assert!(matches!(&error, ProfileError::Unknown { name, .. } if name == "rpi5"));
    assert_eq!(
        error.to_string(),
        "no board profile is named 'rpi5' (known: qemu-x86_64, qemu-aarch64, raspberrypi-5, generic-x86_64, generic-aarch64)"
    );
}

#[test]
fn an_architecture_without_a_fallback_is_an_error() {
    let error = chosen(None, &machine("pc", "riscv64")).unwrap_err();
    assert!(
        matches!(&error, ProfileError::NoMatch { arch, .. } if arch == "riscv64"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("riscv64 has no fallback profile"),
        "{error}"
    );
}

#[test]
fn select_reads_the_running_machine() {
    let pc = fixture("machines/pc");
    let generic = if cfg!(target_arch = "aarch64") {
        "generic-aarch64"
    } else {
        "generic-x86_64"
    };
    if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        assert_eq!(select(None, &pc).unwrap().name, generic);
    }
    assert_eq!(
        select(Some("qemu-aarch64"), &pc).unwrap().name,
        "qemu-aarch64"
    );
}

#[test]
fn the_choice_says_why() {
    let why = |explicit: Option<&str>, tree: &str, arch: &str| {
        let chosen = choose_from(&builtin().unwrap(), explicit, &machine(tree, arch)).unwrap();
        (chosen.profile.name, chosen.reason.to_string())
    };
    assert_eq!(
        why(None, "qemu-x86_64", "x86_64"),
        (
            "qemu-x86_64".to_owned(),
            "recognised by DMI sys_vendor 'QEMU'".to_owned()
        )
    );
    assert_eq!(
        why(None, "raspberrypi-5", "aarch64"),
        (
            "raspberrypi-5".to_owned(),
            "recognised by device-tree compatible 'raspberrypi,5-model-b'".to_owned()
        )
    );
    assert_eq!(
        why(Some("raspberrypi-5"), "pc", "x86_64").1,
        "named by the operator"
    );
    let (name, reason) = why(None, "rock-5b", "aarch64");
    assert_eq!(name, "generic-aarch64");
    assert!(
        reason.ends_with("(DMI sys_vendor none, product_name none; device-tree compatible 'radxa,rock-5b', 'rockchip,rk3588')"),
        "{reason}"
    );
    let (_, reason) = why(None, "nothing-here", "x86_64");
    assert_eq!(
        reason,
        "the x86_64 fallback: no profile recognises this machine \
         (DMI sys_vendor none, product_name none; device-tree compatible none)"
    );
}
