//! A small JSON reader that remembers where every value is.
//!
//! serde_json reports a line and column for a *syntax* error, but once a
//! document parses it forgets positions, and Marathon's app definitions need
//! *semantic* errors ("`backoffFactor` must be at least 1") at the value's own
//! line and column. This reader keeps a byte span on every value and every
//! object key, so a checker can point at either.
//!
//! It reads RFC 8259 JSON strictly, as Marathon's Jackson parser does: no
//! comments, no trailing commas, and no raw control characters inside a
//! string (Jackson: "Illegal unquoted character … has to be escaped using
//! backslash"). A key written twice is refused too (Marathon's Play JSON
//! would silently keep one; a duplicate in a hand-written file is a mistake).
//!
//! One exception, in [`parse_app`] only: an app's top-level `cmd` string may
//! hold raw line breaks. Documents (the seed's among them) write a long
//! spark-submit over several lines as if JSON allowed it; the author meant
//! one command line, so each line break and the indentation after it read as
//! one space, and the caller warns where it happened. A line break in any
//! other string stays an error.

use std::ops::Range;

/// A JSON value and the bytes it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Json {
    pub span: Range<usize>,
    pub value: Value,
}

/// One JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number and whether it was written as an integer (no `.`/exponent).
    Number {
        value: f64,
        integer: bool,
    },
    String(String),
    Array(Vec<Json>),
    /// The members in the order written, each with its key's span.
    Object(Vec<Member>),
}

/// One `"key": value` of an object.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_span: Range<usize>,
    pub value: Json,
}

impl Json {
    /// What kind of value this is, for messages ("an object", "a string").
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number { .. } => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// A syntax error: where, and what.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    pub at: Range<usize>,
    pub message: String,
}

/// The deepest nesting read: far beyond any app definition, and a bound on
/// the recursion a hostile file can cause.
pub const MAX_DEPTH: usize = 64;

/// Reads `text` as one JSON document, strictly.
pub fn parse(text: &str) -> Result<Json, SyntaxError> {
    Reader::new(text, false).document().map(|(v, _)| v)
}

/// Reads an app definition: strict JSON, except that the top-level `cmd`
/// string may span lines (see the module docs). Also returns the span of the
/// first raw line break in `cmd`, if there was one, for the caller's warning.
pub fn parse_app(text: &str) -> Result<(Json, Option<Range<usize>>), SyntaxError> {
    Reader::new(text, true).document()
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Whether the top-level `cmd` may hold raw line breaks.
    relax_cmd: bool,
    /// The first raw line break read inside `cmd`.
    cmd_break: Option<Range<usize>>,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, relax_cmd: bool) -> Reader<'a> {
        Reader { text, bytes: text.as_bytes(), pos: 0, relax_cmd, cmd_break: None }
    }

    fn document(mut self) -> Result<(Json, Option<Range<usize>>), SyntaxError> {
        self.skip_ws();
        let v = self.value(0)?;
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return Err(self.error_here("unexpected text after the JSON document"));
        }
        Ok((v, self.cmd_break))
    }

    fn error(&self, at: Range<usize>, message: impl Into<String>) -> SyntaxError {
        SyntaxError { at, message: message.into() }
    }

    /// An error at the current character (or the end of the text).
    fn error_here(&self, message: impl Into<String>) -> SyntaxError {
        let len = self.text[self.pos..].chars().next().map_or(0, char::len_utf8);
        self.error(self.pos..self.pos + len, message)
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error_here(format!("the JSON is nested more than {MAX_DEPTH} levels deep")));
        }
        let start = self.pos;
        let value = match self.bytes.get(self.pos) {
            None => return Err(self.error_here("the JSON ends where a value was expected")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::String(self.string(false)?),
            Some(b't') => self.word("true", Value::Bool(true))?,
            Some(b'f') => self.word("false", Value::Bool(false))?,
            Some(b'n') => self.word("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => {
                return Err(
                    self.error_here("expected a JSON value (object, array, string, number, true, false or null)")
                );
            }
        };
        Ok(Json { span: start..self.pos, value })
    }

    fn word(&mut self, w: &str, v: Value) -> Result<Value, SyntaxError> {
        if self.text[self.pos..].starts_with(w) {
            self.pos += w.len();
            Ok(v)
        } else {
            Err(self.error_here(format!("expected `{w}`")))
        }
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.pos;
        let digits = |r: &mut Self| {
            let s = r.pos;
            while let Some(b'0'..=b'9') = r.bytes.get(r.pos) {
                r.pos += 1;
            }
            r.pos > s
        };
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        if !digits(self) {
            return Err(self.error_here("expected a digit"));
        }
        if self.bytes[int_start] == b'0' && self.pos - int_start > 1 {
            return Err(self.error(start..self.pos, "a JSON number may not have leading zeros"));
        }
        let mut integer = true;
        if self.bytes.get(self.pos) == Some(&b'.') {
            integer = false;
            self.pos += 1;
            if !digits(self) {
                return Err(self.error_here("expected a digit after the decimal point"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            integer = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error_here("expected a digit in the exponent"));
            }
        }
        let value: f64 = self.text[start..self.pos].parse().map_err(|_| self.error(start..self.pos, "not a number"))?;
        if !value.is_finite() {
            return Err(self.error(start..self.pos, "the number is too large"));
        }
        Ok(Value::Number { value, integer })
    }

    /// A string; with `lines`, a raw line break and the spaces and tabs after
    /// it read as one space.
    fn string(&mut self, lines: bool) -> Result<String, SyntaxError> {
        let start = self.pos;
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            let Some(c) = self.text[self.pos..].chars().next() else {
                return Err(self.error(start..self.pos, "this string is never closed"));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                '\\' => {
                    self.pos += 1;
                    out.push(self.escape()?);
                }
                '\n' | '\r' if lines => {
                    let at = self.pos;
                    self.cmd_break.get_or_insert(at..at + 1);
                    if self.text[self.pos..].starts_with("\r\n") {
                        self.pos += 1;
                    }
                    self.pos += 1;
                    while let Some(b' ' | b'\t') = self.bytes.get(self.pos) {
                        self.pos += 1;
                    }
                    out.push(' ');
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.error_here(format!(
                        "a raw control character (U+{:04X}{}) inside a string: JSON requires it escaped \
                         (write `\\n` for a line break, or keep the string on one line); Marathon's parser refuses it too",
                        c as u32,
                        if c == '\n' { ", a line break" } else { "" }
                    )));
                }
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// The character of an escape whose backslash was just read.
    fn escape(&mut self) -> Result<char, SyntaxError> {
        let c = self.bytes.get(self.pos).copied();
        self.pos += 1;
        Ok(match c {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hi = self.hex4()?;
                if (0xD800..0xDC00).contains(&hi) && self.text[self.pos..].starts_with("\\u") {
                    self.pos += 2;
                    let lo = self.hex4()?;
                    let code = 0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
                    char::from_u32(code)
                        .ok_or_else(|| self.error(self.pos - 12..self.pos, "an invalid surrogate pair"))?
                } else {
                    char::from_u32(hi).ok_or_else(|| self.error(self.pos - 6..self.pos, "a lone surrogate"))?
                }
            }
            _ => return Err(self.error(self.pos - 2..self.pos.min(self.bytes.len()), "an unknown escape sequence")),
        })
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let s = self.text.get(self.pos..self.pos + 4).filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(s) = s else { return Err(self.error_here("`\\u` must be followed by four hex digits")) };
        self.pos += 4;
        Ok(u32::from_str_radix(s, 16).unwrap_or(0))
    }

    fn array(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error_here("expected `,` or `]` in this array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.pos += 1;
        let mut members: Vec<Member> = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.error_here("expected a field name in double quotes"));
            }
            let key_start = self.pos;
            let key = self.string(false)?;
            let key_span = key_start..self.pos;
            if members.iter().any(|m| m.key == key) {
                return Err(self.error(key_span, format!("the field `{key}` is written twice in this object")));
            }
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.error_here("expected `:` after the field name"));
            }
            self.pos += 1;
            self.skip_ws();
            // The app's own `cmd` (a member of the top-level object) may span lines.
            let value = if self.relax_cmd && depth == 0 && key == "cmd" && self.bytes.get(self.pos) == Some(&b'"') {
                let start = self.pos;
                let text = self.string(true)?;
                Json { span: start..self.pos, value: Value::String(text) }
            } else {
                self.value(depth + 1)?
            };
            members.push(Member { key, key_span, value });
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.error_here("expected `,` or `}` in this object")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_spans() {
        let text = r#"{"id": "/a", "n": [1, 2.5, true, null]}"#;
        let v = parse(text).unwrap();
        let Value::Object(m) = &v.value else { panic!("an object") };
        assert_eq!(&text[m[0].key_span.clone()], r#""id""#);
        assert_eq!(&text[m[0].value.span.clone()], r#""/a""#);
        let Value::Array(items) = &m[1].value.value else { panic!("an array") };
        assert_eq!(items[0].value, Value::Number { value: 1.0, integer: true });
        assert_eq!(items[1].value, Value::Number { value: 2.5, integer: false });
        assert_eq!(&text[items[2].span.clone()], "true");
    }

    #[test]
    fn escapes_decode() {
        let v = parse(r#""a\nb\u00e9\ud83d\ude00""#).unwrap();
        assert_eq!(v.value, Value::String("a\nb\u{e9}\u{1F600}".into()));
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = |t: &str| parse(t).unwrap_err();
        assert_eq!(err("{\"a\": 1,}").at, 8..9);
        assert!(err("{\"a\": 1,}").message.contains("field name"));
        let e = err("{\"cmd\": \"spark-submit\n --class X\"}");
        assert_eq!(e.at, 21..22);
        assert!(e.message.contains("line break"), "{}", e.message);
        assert!(err("{\"a\": 1, \"a\": 2}").message.contains("twice"));
        assert!(err("[1 2]").message.contains("`,` or `]`"));
        assert!(err("01").message.contains("leading zeros"));
        assert!(err("\"open").message.contains("never closed"));
        assert!(err("{} x").message.contains("after the JSON"));
        assert!(err(&"[".repeat(100)).message.contains("nested"));
    }

    #[test]
    fn an_apps_cmd_may_span_lines_read_as_one_command_line() {
        let text = "{\"id\": \"/a\",\n \"cmd\": \"spark-submit --master m \n    --class X\r\n\t app.jar\"}";
        let (v, at) = parse_app(text).unwrap();
        let Value::Object(m) = &v.value else { panic!("an object") };
        assert_eq!(m[1].value.value, Value::String("spark-submit --master m  --class X app.jar".into()));
        assert_eq!(at, Some(46..47), "the first line break, for the warning");
        assert_eq!(&text[46..47], "\n");
        // Strict parsing refuses the same text; a one-line cmd reports no break.
        assert!(parse(text).is_err());
        assert_eq!(parse_app(r#"{"cmd": "sleep 1"}"#).unwrap().1, None);
    }

    #[test]
    fn line_breaks_elsewhere_stay_errors() {
        // Another field, a nested `cmd`, and a key.
        let e = parse_app("{\"id\": \"/a\n\"}").unwrap_err();
        assert!(e.message.contains("line break"), "{}", e.message);
        let e = parse_app("{\"container\": {\"cmd\": \"a\nb\"}}").unwrap_err();
        assert!(e.message.contains("line break"), "{}", e.message);
        let e = parse_app("{\"cm\nd\": \"a\"}").unwrap_err();
        assert!(e.message.contains("line break"), "{}", e.message);
        // Other control characters stay errors inside cmd too.
        assert!(parse_app("{\"cmd\": \"a\u{7}b\"}").is_err());
    }
}
