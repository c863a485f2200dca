//! Reading typed values out of request elements. Every failure names the
//! Kraken element so the client knows what to fix.

use makara_config::{Id, Invalid};

use crate::xml::Element;

/// A whole number; an empty element counts as absent.
pub fn int(el: &Element, names: &[&'static str]) -> Result<Option<i64>, Invalid> {
    let Some(text) = present(el, names) else {
        return Ok(None);
    };
    text.parse::<i64>()
        .map(Some)
        .map_err(|_| bad(names[0], format!("'{text}' is not a whole number")))
}

/// `tos` may be written in decimal or as `0x..` hex.
pub fn int_or_hex(el: &Element, names: &[&'static str]) -> Result<Option<i64>, Invalid> {
    let Some(text) = present(el, names) else {
        return Ok(None);
    };
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16),
        None => text.parse::<i64>(),
    };
    parsed.map(Some).map_err(|_| {
        bad(
            names[0],
            format!("'{text}' is not a number (decimal or 0x00-0xFF)"),
        )
    })
}

/// on/off, true/false, yes/no, 1/0, in any case.
pub fn boolean(el: &Element, names: &[&'static str]) -> Result<Option<bool>, Invalid> {
    let Some(text) = present(el, names) else {
        return Ok(None);
    };
    match text.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(Some(true)),
        "off" | "false" | "no" | "0" => Ok(Some(false)),
        _ => Err(bad(
            names[0],
            format!("'{text}' is not one of on, off, true, false"),
        )),
    }
}

/// One of a fixed set of words (any case), mapped to its value.
pub fn choice<T: Copy>(
    el: &Element,
    names: &[&'static str],
    table: &[(&str, T)],
) -> Result<Option<T>, Invalid> {
    let Some(text) = present(el, names) else {
        return Ok(None);
    };
    table
        .iter()
        .find(|(word, _)| word.eq_ignore_ascii_case(text))
        .map(|(_, v)| Some(*v))
        .ok_or_else(|| {
            let words: Vec<&str> = table.iter().map(|(w, _)| *w).collect();
            bad(
                names[0],
                format!("'{text}' is not one of {}", words.join(", ")),
            )
        })
}

/// Free text, kept as written (the config layer trims it).
pub fn string(el: &Element, names: &[&str]) -> Option<String> {
    el.child(names).map(|c| c.text.clone())
}

/// The id in a link such as `https://host/apis/kraken/inputs/input-{uuid}`.
/// The host does not matter; a bare uuid is accepted too. Whitespace is
/// removed first: the contract's own examples break links across lines.
pub fn link_id(text: &str, field: &'static str, prefix: &str) -> Result<Id, Invalid> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let last = compact
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    segment_id(last, prefix).ok_or_else(|| {
        bad(
            field,
            format!("'{compact}' is not a link to an {prefix} (…/{prefix}-<uuid>)"),
        )
    })
}

/// `input-{uuid}`, or `input{uuid}` as some of the contract's examples
/// spell it, or a bare uuid.
pub fn segment_id(segment: &str, prefix: &str) -> Option<Id> {
    let rest = segment
        .strip_prefix(prefix)
        .map(|r| r.strip_prefix('-').unwrap_or(r))
        .unwrap_or(segment);
    Id::parse(rest)
}

/// A NIC named by its link (`…/nics/nic-eth1`), or by its plain name.
pub fn nic_name(text: &str) -> Result<Option<String>, Invalid> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Ok(None);
    }
    if !compact.contains('/') {
        return Ok(Some(compact));
    }
    let (_, after) = compact.rsplit_once("/nics/").ok_or_else(|| {
        bad(
            "interface",
            format!("'{compact}' is not a link to a NIC (…/nics/nic-<name>)"),
        )
    })?;
    let name = after.trim_end_matches('/');
    let name = name
        .strip_prefix("nic-")
        .or_else(|| name.strip_prefix("nic"))
        .unwrap_or(name);
    if name.is_empty() || name.contains('/') {
        return Err(bad("interface", format!("'{compact}' does not name a NIC")));
    }
    Ok(Some(name.to_string()))
}

fn present<'a>(el: &'a Element, names: &[&str]) -> Option<&'a str> {
    el.text_of(names).filter(|t| !t.is_empty())
}

fn bad(field: &'static str, reason: String) -> Invalid {
    Invalid::BadValue { field, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    fn el(xml: &str) -> Element {
        parse(xml.as_bytes()).unwrap()
    }

    #[test]
    fn ints() {
        let e = el("<t><a>42</a><b>-1</b><c/><d>x</d></t>");
        assert_eq!(int(&e, &["a"]), Ok(Some(42)));
        assert_eq!(int(&e, &["b"]), Ok(Some(-1)));
        assert_eq!(int(&e, &["c"]), Ok(None));
        assert_eq!(int(&e, &["zz"]), Ok(None));
        assert_eq!(
            int(&e, &["d"]).unwrap_err().to_string(),
            "d: 'x' is not a whole number"
        );
    }

    #[test]
    fn hex_tos() {
        let e = el("<t><tos>0xB8</tos><x>0xZZ</x></t>");
        assert_eq!(int_or_hex(&e, &["tos"]), Ok(Some(184)));
        assert!(int_or_hex(&e, &["x"]).is_err());
    }

    #[test]
    fn booleans_and_choices() {
        let e = el("<t><a>ON</a><b>false</b><c>maybe</c><m>Caller</m></t>");
        assert_eq!(boolean(&e, &["a"]), Ok(Some(true)));
        assert_eq!(boolean(&e, &["b"]), Ok(Some(false)));
        assert!(boolean(&e, &["c"]).is_err());
        let t = [("caller", 1), ("listener", 2)];
        assert_eq!(choice(&e, &["m"], &t), Ok(Some(1)));
        assert_eq!(
            choice(&e, &["a"], &t).unwrap_err().to_string(),
            "a: 'ON' is not one of caller, listener"
        );
    }

    #[test]
    fn links_from_the_contract_examples() {
        let id = "c769e651-b6a5-4547-94d5-f06bd2877a65";
        let wrapped = format!("https://10.1.40.89/apis/kraken/inputs/\ninput-{id}");
        assert_eq!(link_id(&wrapped, "input", "input").unwrap().as_str(), id);
        let nodash = format!("https://localhost:20343/apis/kraken/outputs/output{id}");
        assert_eq!(link_id(&nodash, "outputs", "output").unwrap().as_str(), id);
        assert_eq!(link_id(id, "input", "input").unwrap().as_str(), id);
        assert!(link_id("https://h/apis/kraken/inputs/input-nope", "input", "input").is_err());
    }

    #[test]
    fn nic_links() {
        let link = "https://10.6.60.202/apis/servers/serverbc305be293d3/nics/nic-eth1";
        assert_eq!(nic_name(link), Ok(Some("eth1".into())));
        assert_eq!(
            nic_name("https://x/apis/servers/server-1/nics/niceth0"),
            Ok(Some("eth0".into()))
        );
        assert_eq!(nic_name("eth2"), Ok(Some("eth2".into())));
        assert_eq!(nic_name(""), Ok(None));
        assert!(nic_name("https://x/apis/kraken/inputs/input-1").is_err());
    }
}
