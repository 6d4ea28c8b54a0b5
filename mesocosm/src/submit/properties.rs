//! `spark-defaults.conf` text → key/value pairs, as Java's `Properties.load`
//! reads it (Spark's `Utils.getPropertiesFromFile` calls it, then trims each
//! value). Keys are not filtered here: [`super::SparkConf::resolve`] drops
//! the ones not starting with `spark.`, as spark-submit does.

use std::collections::BTreeMap;

/// A line of a properties file that `Properties.load` would not read the
/// way its author meant. Its text is the sentence; the line is where to
/// point (1-based, the first line of a continued entry).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PropertiesError {
    /// The line the entry starts on.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses a `spark-defaults.conf` (Java `Properties.load` syntax).
///
/// `key value`, `key=value` and `key: value`; lines whose first non-blank
/// character is `#` or `!` are comments; a line ending in an odd number of
/// `\` continues on the next; `\t`, `\n`, `\uXXXX` escapes. Values are
/// trimmed, as Spark's `Utils.getPropertiesFromFile` does. The last of a
/// repeated key wins. Errors carry the 1-based line number.
pub fn parse_properties(src: &str) -> Result<BTreeMap<String, String>, PropertiesError> {
    parse_properties_with_lines(src).map(|m| m.into_iter().map(|(k, (v, _))| (k, v)).collect())
}

/// [`parse_properties`], also giving the line each entry starts on.
pub fn parse_properties_with_lines(src: &str) -> Result<BTreeMap<String, (String, usize)>, PropertiesError> {
    let mut out = BTreeMap::new();
    let lines: Vec<&str> = src.lines().collect();
    let mut n = 0;
    while n < lines.len() {
        let start_line = n + 1;
        let first = lines[n].trim_start_matches([' ', '\t', '\x0c']);
        n += 1;
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        // Join continuation lines (odd number of trailing backslashes).
        let mut logical = String::from(first);
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            match lines.get(n) {
                Some(next) => {
                    logical.push_str(next.trim_start_matches([' ', '\t', '\x0c']));
                    n += 1;
                }
                None => break,
            }
        }
        let (key, value) = split_property(&logical).map_err(|message| PropertiesError { line: start_line, message })?;
        if key.is_empty() {
            let message = format!("`{}` has a value but no key", logical.trim());
            return Err(PropertiesError { line: start_line, message });
        }
        out.insert(key, (value.trim().to_string(), start_line));
    }
    Ok(out)
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// Splits a logical line into an unescaped key and value.
fn split_property(line: &str) -> Result<(String, String), String> {
    let mut chars = line.chars().peekable();
    let mut key = String::new();
    // Key: up to the first unescaped `=`, `:` or blank.
    let mut sep_seen = false;
    while let Some(&c) = chars.peek() {
        match c {
            '\\' => {
                chars.next();
                key.push(unescape(&mut chars)?);
            }
            '=' | ':' => {
                chars.next();
                sep_seen = true;
                break;
            }
            ' ' | '\t' | '\x0c' => break,
            _ => {
                key.push(c);
                chars.next();
            }
        }
    }
    // Blanks, then at most one `=` or `:` (if not already consumed), then blanks.
    while chars.next_if(|c| matches!(c, ' ' | '\t' | '\x0c')).is_some() {}
    if !sep_seen && chars.next_if(|c| matches!(c, '=' | ':')).is_some() {
        while chars.next_if(|c| matches!(c, ' ' | '\t' | '\x0c')).is_some() {}
    }
    let mut value = String::new();
    while let Some(c) = chars.next() {
        if c == '\\' {
            value.push(unescape(&mut chars)?);
        } else {
            value.push(c);
        }
    }
    Ok((key, value))
}

/// The character after a `\` in a properties file.
fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<char, String> {
    Ok(match chars.next() {
        Some('t') => '\t',
        Some('n') => '\n',
        Some('r') => '\r',
        Some('f') => '\x0c',
        Some('u') => {
            let hex: String = chars.by_ref().take(4).collect();
            (hex.len() == 4)
                .then(|| u32::from_str_radix(&hex, 16).ok())
                .flatten()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("malformed \\uXXXX escape `\\u{hex}`"))?
        }
        Some(c) => c,
        None => '\\',
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties() {
        let p = parse_properties(
            "# comment\n! also\n\nspark.a  1\nspark.b=2\nspark.c : 3 \n  spark.d\\\n   more\nspark.e\nspark\\ f=\\u0041\\t\nspark.a 9\n",
        )
        .unwrap();
        assert_eq!(p["spark.a"], "9");
        assert_eq!(p["spark.b"], "2");
        assert_eq!(p["spark.c"], "3");
        assert_eq!(p["spark.dmore"], "");
        assert_eq!(p["spark.e"], "");
        assert_eq!(p["spark f"], "A");
        let e = parse_properties("a\n= x\n").unwrap_err();
        assert_eq!((e.line, e.to_string().as_str()), (2, "`= x` has a value but no key"));
        let e = parse_properties("a \\u12\n").unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (1, "malformed \\uXXXX escape `\\u12`"));
        let lines = parse_properties_with_lines("\n\nspark.x 1\n").unwrap();
        assert_eq!(lines["spark.x"], ("1".to_string(), 3));
    }
}
