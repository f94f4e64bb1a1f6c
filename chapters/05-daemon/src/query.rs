//! Query strings as Docker reads them.
//!
//! Docker's rules are lenient in one place and strict in another: a boolean is
//! false for `""`, `0`, `no`, `false` and `none` (in any case) and true for
//! anything else, while a number that does not parse is a 400.

use crate::error::ApiError;
use std::collections::BTreeMap;

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`).
/// An invalid escape is a 400: a request should mean one thing only.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Result<String, ApiError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        ApiError::BadParameter(format!("invalid escape in {text:?} at byte {i}"))
                    })?;
                out.push(hex);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map_err(|_| ApiError::BadParameter(format!("{text:?} does not decode to UTF-8")))
}

// ANCHOR: query_parse
/// The decoded `key=value` pairs of a query string.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses `a=1&b=&c` (a key without `=` has the value `""`).
    pub fn parse(query: Option<&str>) -> Result<Query, ApiError> {
        let mut pairs = Vec::new();
        for part in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((percent_decode(key, true)?, percent_decode(value, true)?));
        }
        Ok(Query { pairs })
    }
    // ANCHOR_END: query_parse

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key` (`?names=a&names=b`).
    pub fn all(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A non-empty value of `key`.
    pub fn string(&self, key: &str) -> Option<String> {
        self.get(key).filter(|v| !v.is_empty()).map(str::to_owned)
    }
    // ANCHOR: query_values

    /// A boolean with Docker's rule; `default` when the key is absent.
    pub fn bool(&self, key: &str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(v) => !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "" | "0" | "no" | "false" | "none"
            ),
        }
    }

    /// An integer; `None` when absent or empty, a 400 when it does not parse.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key).map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::BadParameter(format!("invalid value for {key}: {v:?} is not an integer"))
            }),
        }
    }
    // ANCHOR_END: query_values

    /// The `filters` parameter, in either of Docker's JSON forms.
    pub fn filters(&self) -> Result<Filters, ApiError> {
        match self.get("filters") {
            None | Some("") => Ok(Filters::default()),
            Some(json) => Filters::parse(json),
        }
    }
}

// ANCHOR: filters_parse
/// Parsed `filters`: a filter name and the values that match.
///
/// Clients send `{"label":{"a=b":true}}` (current form) or
/// `{"label":["a=b"]}` (the form before API 1.22, still sent by some).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Filter name → accepted values.
    pub terms: BTreeMap<String, Vec<String>>,
}

impl Filters {
    /// Parses either JSON form.
    pub fn parse(json: &str) -> Result<Filters, ApiError> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| ApiError::BadParameter(format!("invalid filter {json:?}: {e}")))?;
        let object = value.as_object().ok_or_else(|| {
            ApiError::BadParameter(format!("invalid filter {json:?}: not an object"))
        })?;
        let mut terms = BTreeMap::new();
        for (name, values) in object {
            let list: Vec<String> = match values {
                serde_json::Value::Object(map) => map
                    .iter()
                    .filter(|(_, on)| on.as_bool().unwrap_or(false))
                    .map(|(k, _)| k.clone())
                    .collect(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        ApiError::BadParameter(format!(
                            "invalid filter {name:?}: values must be strings"
                        ))
                    })?,
                _ => {
                    return Err(ApiError::BadParameter(format!(
                        "invalid filter {name:?}: expected an object or a list"
                    )))
                }
            };
            terms.insert(name.clone(), list);
        }
        Ok(Filters { terms })
    }
    // ANCHOR_END: filters_parse

    /// The values of one filter (empty when it is not set).
    pub fn values(&self, name: &str) -> &[String] {
        self.terms.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self.terms.values().all(Vec::is_empty)
    }

    /// Refuses a filter not in `allowed` (`what` names the operation), as
    /// Docker does for prune: a misspelt filter must not widen what is
    /// deleted.
    pub fn only(&self, allowed: &[&str], what: &str) -> Result<(), ApiError> {
        match self.terms.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(name) => Err(ApiError::BadParameter(format!(
                "invalid filter '{name}': {what} takes {}",
                allowed.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// The `until` filter of prune: a time, or a Go duration before `now`.
    pub fn until(
        &self,
        now: std::time::SystemTime,
    ) -> Result<Option<std::time::SystemTime>, ApiError> {
        match self.values("until") {
            [] => Ok(None),
            [text] => crate::time::parse_until(text, now)
                .map(Some)
                .ok_or_else(|| {
                    ApiError::BadParameter(format!(
                    "invalid until {text:?}: a time (unix seconds, RFC 3339) or a duration (10m)"
                ))
                }),
            _ => Err(ApiError::BadParameter(
                "more than one until filter".to_string(),
            )),
        }
    }

    /// Whether `labels` satisfy every `label` filter (`key` or `key=value`).
    pub fn labels_match(&self, labels: &BTreeMap<String, String>) -> bool {
        self.values("label")
            .iter()
            .all(|term| match term.split_once('=') {
                Some((k, v)) => labels.get(k).map(String::as_str) == Some(v),
                None => labels.contains_key(term.as_str()),
            })
    }

    /// Serialises back into the current JSON form (for clients).
    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .terms
            .iter()
            .map(|(k, vs)| {
                let inner: serde_json::Map<String, serde_json::Value> = vs
                    .iter()
                    .map(|v| (v.clone(), serde_json::Value::Bool(true)))
                    .collect();
                (k.clone(), serde_json::Value::Object(inner))
            })
            .collect();
        serde_json::Value::Object(map).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_follow_docker() {
        let q = Query::parse(Some("a=1&b=0&c=&d=False&e=none&f=yes&g")).unwrap();
        assert!(q.bool("a", false));
        assert!(!q.bool("b", true));
        assert!(!q.bool("c", true));
        assert!(!q.bool("d", true));
        assert!(!q.bool("e", true));
        assert!(q.bool("f", false));
        assert!(!q.bool("g", true));
        assert!(q.bool("missing", true));
    }

    #[test]
    fn numbers_and_escapes() {
        let q = Query::parse(Some("t=10&name=a%2Fb+c&bad=x1")).unwrap();
        assert_eq!(q.int("t").unwrap(), Some(10));
        assert_eq!(q.get("name"), Some("a/b c"));
        assert!(q.int("bad").is_err());
        assert!(Query::parse(Some("x=%zz")).is_err());
    }

    #[test]
    fn both_filter_forms() {
        let new =
            Filters::parse(r#"{"label":{"a=b":true,"c":true},"status":{"exited":true}}"#).unwrap();
        let old = Filters::parse(r#"{"label":["a=b","c"],"status":["exited"]}"#).unwrap();
        assert_eq!(new, old);
        let mut labels = BTreeMap::new();
        labels.insert("a".to_string(), "b".to_string());
        assert!(!new.labels_match(&labels));
        labels.insert("c".to_string(), String::new());
        assert!(new.labels_match(&labels));
        assert_eq!(Filters::parse(&new.to_json()).unwrap(), new);
        assert!(Filters::parse("[1]").is_err());
    }
}
