//! Diagnostics: an error that points at the exact place in a file.
//!
//! Every problem found in a scenario becomes a [`Diagnostic`]: a file, a
//! 1-based line and column, how many characters to underline, a message, and
//! a copy of the offending source line. Rendered, it looks like rustc's:
//!
//! ```text
//! error: scenarios/bad.toml:14:13: bad resources string "cpus:four": cpus: `four` is not a number
//!    |
//! 14 | resources = "cpus:four"
//!    |             ^^^^^^^^^^^
//! ```
//!
//! Parsers upstream work in *byte offsets* (that is what `toml` reports and
//! what string slicing uses); [`Diagnostic::at_span`] is the single place that
//! turns a byte range into a line, a column counted in characters, and a
//! caret run. It never panics: a span past the end, inside a multi-byte
//! character or across lines is clamped to something sensible.
//!
//! A scenario is checked completely before anything runs, so all problems
//! are collected into [`Diagnostics`], which is the error type of
//! `scenario::parse` and renders them all, separated by blank lines.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem, located in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in (as the user named it, for messages).
    pub file: PathBuf,
    /// 1-based line number; 0 means "the file as a whole" (e.g. it is missing).
    pub line: usize,
    /// 1-based column, in characters (not bytes); 0 when `line` is 0.
    pub col: usize,
    /// How many characters to underline (at least 1 when there is a line).
    pub span_len: usize,
    /// What is wrong, in words.
    pub message: String,
    /// The text of line `line`, without its line ending.
    pub source_line: String,
}

impl Diagnostic {
    /// A diagnostic for the byte range `span` of `src` (the full text of `file`).
    ///
    /// The underline stops at the end of the first line of the span: a caret
    /// run wrapping onto following lines would be unreadable.
    pub fn at_span(file: impl Into<PathBuf>, src: &str, span: Range<usize>, msg: impl Into<String>) -> Diagnostic {
        let start = floor_char_boundary(src, span.start.min(src.len()));
        let end = floor_char_boundary(src, span.end.clamp(start, src.len()));
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
        let line_text = src[line_start..line_end].trim_end_matches('\r');
        let line = src[..start].matches('\n').count() + 1;
        let col = src[line_start..start].chars().count() + 1;
        let underline_end = end.min(line_start + line_text.len()).max(start);
        let span_len = src[start..underline_end].chars().count().max(1);
        Diagnostic { file: file.into(), line, col, span_len, message: msg.into(), source_line: line_text.to_string() }
    }

    /// A diagnostic for the 1-based `line` of `src`, underlining the whole line
    /// (used for `spark-defaults.conf`, whose parser reports lines).
    pub fn at_line(file: impl Into<PathBuf>, src: &str, line: usize, msg: impl Into<String>) -> Diagnostic {
        let mut offset = 0;
        for (i, text) in src.split('\n').enumerate() {
            if i + 1 == line {
                let trimmed = text.trim_end_matches('\r');
                let lead = trimmed.len() - trimmed.trim_start().len();
                let body = trimmed.trim();
                let start = offset + lead;
                return Diagnostic::at_span(file, src, start..start + body.len(), msg);
            }
            offset += text.len() + 1;
        }
        Diagnostic::at_span(file, src, src.len()..src.len(), msg)
    }

    /// A diagnostic about a whole file (it is missing, unreadable, not UTF-8).
    pub fn file_level(file: impl Into<PathBuf>, msg: impl Into<String>) -> Diagnostic {
        Diagnostic { file: file.into(), line: 0, col: 0, span_len: 0, message: msg.into(), source_line: String::new() }
    }

    /// A diagnostic from a TOML syntax or shape error (unknown key, wrong
    /// type, missing field…). `toml` reports a byte span for almost every
    /// error; when it does not, we point at line 1, column 1.
    pub fn from_toml(file: impl Into<PathBuf>, src: &str, err: &toml::de::Error) -> Diagnostic {
        let span = err.span().unwrap_or(0..0);
        Diagnostic::at_span(file, src, span, err.message().trim())
    }

    /// The file this diagnostic is about.
    pub fn path(&self) -> &Path {
        &self.file
    }
}

/// The largest char boundary ≤ `i` (stable stand-in for `str::floor_char_boundary`).
fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(f, "error")
    }
}

/// A [`Diagnostic`] shown as a warning: the input is used as written, the
/// run goes on (e.g. credentials for a registry no image comes from).
pub struct Warning<'a>(pub &'a Diagnostic);

impl fmt::Display for Warning<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.render(f, "warning")
    }
}

impl Diagnostic {
    /// `<word>: file:line:col: message`, then the line with carets under the span.
    fn render(&self, f: &mut fmt::Formatter<'_>, word: &str) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{word}: {}: {}", self.file.display(), self.message);
        }
        writeln!(f, "{word}: {}:{}:{}: {}", self.file.display(), self.line, self.col, self.message)?;
        let number = self.line.to_string();
        let gutter = " ".repeat(number.len());
        writeln!(f, "{gutter} |")?;
        writeln!(f, "{number} | {}", self.source_line)?;
        // Reproduce tabs in the padding so the carets line up under the
        // source however wide the terminal renders a tab.
        let pad: String = self
            .source_line
            .chars()
            .take(self.col.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "{gutter} | {pad}{}", "^".repeat(self.span_len.max(1)))
    }
}

impl std::error::Error for Diagnostic {}

/// Every problem found in one input, in the order they were found.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// True when no problem was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems were recorded.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The recorded problems.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// Records one more problem.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, "\n\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_rustc() {
        let src = "a = 1\n".repeat(13) + "resources = \"cpus:four\"\n";
        let start = src.find("\"cpus").unwrap();
        let d = Diagnostic::at_span(
            "scenarios/bad.toml",
            &src,
            start..start + 11,
            "bad resources string \"cpus:four\": `four` is not a number",
        );
        assert_eq!((d.line, d.col, d.span_len), (14, 13, 11));
        let expected = "error: scenarios/bad.toml:14:13: bad resources string \"cpus:four\": `four` is not a number\n   |\n14 | resources = \"cpus:four\"\n   |             ^^^^^^^^^^^";
        assert_eq!(d.to_string(), expected);
    }

    #[test]
    fn clamps_bad_spans() {
        let src = "héllo\nworld";
        // Inside the 2-byte 'é', past the end, reversed: none may panic.
        let d = Diagnostic::at_span("f", src, 2..100, "m");
        assert_eq!((d.line, d.col), (1, 2));
        assert_eq!(d.span_len, 4); // stops at the end of line 1
        let reversed = std::ops::Range { start: 100, end: 3 };
        let d = Diagnostic::at_span("f", src, reversed, "m");
        assert_eq!((d.line, d.col, d.span_len), (2, 6, 1));
        let d = Diagnostic::at_span("f", "", 0..0, "m");
        assert_eq!((d.line, d.col, d.span_len), (1, 1, 1));
    }

    #[test]
    fn at_line_underlines_the_text() {
        let d = Diagnostic::at_line("d.conf", "a b\n  spark.x  y \n", 2, "m");
        assert_eq!((d.line, d.col, d.span_len), (2, 3, 10));
    }

    #[test]
    fn many_are_separated_by_blank_lines() {
        let ds = Diagnostics(vec![Diagnostic::file_level("a", "one"), Diagnostic::file_level("b", "two")]);
        assert_eq!(ds.to_string(), "error: a: one\n\nerror: b: two");
    }
}
