//! A list's query: `page`, `pageSize`, `q`, `sort`, `asc` and `filter`,
//! parsed once and checked (hmp.md DEC-9), and the page of a list it asks
//! for, with the `paging` object and its `next` link.

use serde_json::{json, Map, Value};

use super::error::HmpError;

/// Items per page when the query gives none (every list example of the
/// seed shows 15).
pub const DEFAULT_PAGE_SIZE: usize = 15;
/// The largest `pageSize` taken (public clients ask for 100).
pub const MAX_PAGE_SIZE: usize = 1000;
/// The longest `q` taken, in characters.
pub const MAX_SEARCH_CHARS: usize = 256;

/// The fields sessions and assets sort on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Title,
    Description,
    Duration,
    Ctime,
}

impl SortField {
    pub const WORDS: [&'static str; 4] = ["title", "description", "duration", "ctime"];

    fn parse(word: &str) -> Option<SortField> {
        Some(match word {
            "title" => SortField::Title,
            "description" => SortField::Description,
            "duration" => SortField::Duration,
            "ctime" => SortField::Ctime,
            _ => return None,
        })
    }
}

/// A list's query, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub page: usize,
    pub page_size: usize,
    /// Lower-cased search text, its one pair of surrounding quotes gone.
    pub search: Option<String>,
    pub sort: Option<SortField>,
    pub ascending: bool,
    /// The other parameters, kept for the `next` link.
    others: Vec<(String, String)>,
}

impl ListQuery {
    /// Parses `query`. `sortable` lists whether `sort`/`asc` apply here.
    pub fn parse(query: Option<&str>, sortable: bool) -> Result<ListQuery, HmpError> {
        let mut parsed = ListQuery {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            search: None,
            sort: None,
            ascending: true,
            others: Vec::new(),
        };
        for (key, value) in pairs(query.unwrap_or_default()) {
            parsed.take(&key, value, sortable)?;
        }
        Ok(parsed)
    }

    fn take(&mut self, key: &str, value: String, sortable: bool) -> Result<(), HmpError> {
        match key {
            "page" => self.page = number(key, &value, 1, usize::MAX)?,
            "pageSize" => self.page_size = number(key, &value, 1, MAX_PAGE_SIZE)?,
            "q" => self.search = search_text(&value)?,
            "sort" if sortable => {
                self.sort = Some(SortField::parse(&value).ok_or_else(|| {
                    HmpError::input(format!(
                        "sort must be one of {} (was {value:?})",
                        SortField::WORDS.join(", ")
                    ))
                })?);
            }
            "asc" if sortable => {
                self.ascending = match value.as_str() {
                    "1" => true,
                    "-1" => false,
                    _ => {
                        return Err(HmpError::input(format!(
                            "asc must be 1 or -1 (was {value:?})"
                        )))
                    }
                }
            }
            "filter" if !value.trim().is_empty() => {
                return Err(HmpError::invalid_filter(
                    "This appliance has no categories to filter on",
                ))
            }
            _ => {}
        }
        if !matches!(key, "page" | "pageSize") {
            self.others.push((key.to_owned(), value));
        }
        Ok(())
    }

    /// Whether `texts` (title, description, …) contain the search text,
    /// ignoring case. True without a search.
    pub fn matches<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> bool {
        match &self.search {
            None => true,
            Some(needle) => texts.into_iter().any(|t| t.to_lowercase().contains(needle)),
        }
    }

    /// The requested page of `items` as the response document: `data` and
    /// `paging`, or 404 NoResults when the list is empty or the page lies
    /// past its end. `link` is the absolute URL of the list without query.
    pub fn page_of(&self, items: Vec<Value>, link: &str) -> Result<Value, HmpError> {
        let total = items.len();
        let start = (self.page - 1).saturating_mul(self.page_size);
        if start >= total {
            return Err(HmpError::no_results());
        }
        let end = start.saturating_add(self.page_size).min(total);
        let mut paging = Map::new();
        paging.insert("results".into(), json!(total));
        paging.insert("pageSize".into(), json!(self.page_size));
        if end < total {
            paging.insert("next".into(), json!(self.next_link(link)));
        }
        let data: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
        Ok(json!({ "data": data, "paging": paging }))
    }

    fn next_link(&self, link: &str) -> String {
        let mut query: Vec<String> = self
            .others
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        query.push(format!("page={}", self.page + 1));
        query.push(format!("pageSize={}", self.page_size));
        format!("{link}?{}", query.join("&"))
    }
}

fn number(key: &str, value: &str, min: usize, max: usize) -> Result<usize, HmpError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            let range = if max == usize::MAX {
                format!("{min} or more")
            } else {
                format!("{min} to {max}")
            };
            HmpError::input(format!(
                "{key} must be a whole number, {range} (was {value:?})"
            ))
        })
}

fn search_text(value: &str) -> Result<Option<String>, HmpError> {
    let trimmed = value.trim();
    let unquoted = trimmed
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(trimmed);
    if unquoted.chars().count() > MAX_SEARCH_CHARS {
        return Err(HmpError::input(format!(
            "q must be at most {MAX_SEARCH_CHARS} characters"
        )));
    }
    Ok((!unquoted.is_empty()).then(|| unquoted.to_lowercase()))
}

/// `key=value` pairs of a query string, percent-decoded (`+` is a space).
fn pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k), decode(v))
    })
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| Some(hex(*bytes.get(i + 1)?)? * 16 + hex(*bytes.get(i + 2)?)?))
            .flatten();
        match (bytes[i], escaped) {
            (_, Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (b, None) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!({ "i": i })).collect()
    }

    #[test]
    fn defaults_are_page_one_of_fifteen() {
        let q = ListQuery::parse(None, true).unwrap();
        let doc = q.page_of(items(3), "https://h/apis/x").unwrap();
        assert_eq!(doc["paging"], json!({"results": 3, "pageSize": 15}));
        assert_eq!(doc["data"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn next_is_there_only_while_more_remains_and_keeps_the_other_parameters() {
        let q = ListQuery::parse(Some("q=%22Cam%22&page=1&pageSize=2"), true).unwrap();
        let doc = q.page_of(items(3), "https://h:8443/apis/sources").unwrap();
        assert_eq!(
            doc["paging"]["next"],
            "https://h:8443/apis/sources?q=%22Cam%22&page=2&pageSize=2"
        );
        let last = ListQuery::parse(Some("page=2&pageSize=2"), true).unwrap();
        let doc = last.page_of(items(3), "https://h/apis/sources").unwrap();
        assert_eq!(doc["data"], json!([{ "i": 2 }]));
        assert!(doc["paging"].get("next").is_none());
    }

    #[test]
    fn empty_lists_and_pages_past_the_end_are_no_results() {
        let q = ListQuery::parse(None, false).unwrap();
        assert_eq!(q.page_of(vec![], "l").unwrap_err().code, "040012");
        let q = ListQuery::parse(Some("page=3&pageSize=1"), false).unwrap();
        assert_eq!(q.page_of(items(2), "l").unwrap_err().code, "040012");
    }

    #[test]
    fn bad_numbers_name_the_parameter_and_range() {
        for (query, word) in [
            ("page=0", "page"),
            ("pageSize=0", "pageSize"),
            ("pageSize=1001", "pageSize"),
            ("page=x", "page"),
            ("asc=2", "asc"),
            ("sort=name", "sort"),
        ] {
            let e = ListQuery::parse(Some(query), true).unwrap_err();
            assert_eq!(e.code, "010001", "{query}");
            assert!(e.message.starts_with(word), "{query}: {}", e.message);
        }
    }

    #[test]
    fn sort_and_asc_are_ignored_where_lists_do_not_sort() {
        let q = ListQuery::parse(Some("sort=name&asc=7"), false).unwrap();
        assert_eq!(q.sort, None);
    }

    #[test]
    fn a_filter_is_refused_since_there_are_no_categories() {
        let e = ListQuery::parse(Some("filter=category%3A%3A%22x%22+IN+%28%22y%22%29"), true)
            .unwrap_err();
        assert_eq!((e.status, e.code), (400, "010002"));
        assert!(ListQuery::parse(Some("filter="), true).is_ok());
    }

    #[test]
    fn search_drops_one_pair_of_quotes_and_ignores_case() {
        let q = ListQuery::parse(Some("q=%22My+Cam%22"), false).unwrap();
        assert_eq!(q.search.as_deref(), Some("my cam"));
        assert!(q.matches(["Studio", "the MY CAM feed"]));
        assert!(!q.matches(["Studio"]));
    }

    #[test]
    fn decoding_survives_broken_escapes() {
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%zz%41"), "%zzA");
        assert_eq!(decode("%"), "%");
        assert_eq!(decode("%é1"), "%é1");
    }
}
