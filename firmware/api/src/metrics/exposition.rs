//! The Prometheus text exposition format, version 0.0.4: a family is a
//! `# HELP` and a `# TYPE` line followed by all its samples, each sample
//! `name{label="value",...} value`. Label values escape backslash, double
//! quote and line feed; help texts escape backslash and line feed.

use std::fmt::Write as _;

/// The content type of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Counter,
    Gauge,
}

impl Type {
    fn word(self) -> &'static str {
        match self {
            Type::Counter => "counter",
            Type::Gauge => "gauge",
        }
    }
}

/// A document being written.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    /// Starts the family `name`: its help and type lines.
    pub fn family(&mut self, name: &str, kind: Type, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {}", kind.word());
    }

    /// One sample; `labels` as made by [`labels`].
    pub fn sample(&mut self, name: &str, labels: &str, value: impl Into<Value>) {
        let _ = writeln!(self.text, "{name}{labels} {}", value.into());
    }

    pub fn finish(self) -> String {
        self.text
    }
}

/// A sample's value: an integer as written, a float in Rust's shortest
/// exact form (Prometheus parses both as a float64).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
}

impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(u64::from(v))
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) if v.is_nan() => f.write_str("NaN"),
            Value::Float(v) if v.is_infinite() => {
                f.write_str(if *v > 0.0 { "+Inf" } else { "-Inf" })
            }
            Value::Float(v) => write!(f, "{v}"),
        }
    }
}

/// `{a="x",b="y"}`, values escaped; empty for no labels.
pub fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut out = String::from("{");
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{name}=\"{}\"", escape_label(value));
    }
    out.push('}');
    out
}

fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_samples_and_escapes() {
        let mut e = Exposition::default();
        e.family("x_total", Type::Counter, "Things\\done\nin all.");
        e.sample("x_total", &labels(&[("a", "q\"b\\c\nd"), ("b", "é")]), 3u64);
        e.family("y", Type::Gauge, "A level.");
        e.sample("y", "", 0.25);
        e.sample("y", "", f64::NAN);
        e.sample("y", "", true);
        assert_eq!(
            e.finish(),
            "# HELP x_total Things\\\\done\\nin all.\n# TYPE x_total counter\n\
             x_total{a=\"q\\\"b\\\\c\\nd\",b=\"é\"} 3\n\
             # HELP y A level.\n# TYPE y gauge\ny 0.25\ny NaN\ny 1\n"
        );
    }
}
