//! Step 1: a command line → shell words, as a POSIX shell splits it.
//!
//! Only the splitting: quotes, backslashes and `\`-newline continuations. No
//! expansion happens (`$HOME` stays `$HOME`), because a scenario line is
//! text, not a shell session. Each word keeps the byte range it was written
//! at, so a later step can underline it.

use std::ops::Range;

use super::SubmitError;

/// One shell word: its text after quote removal, and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    /// Byte range in the line, from the first to one past the last character
    /// of the word as written (quotes included).
    pub span: Range<usize>,
}

/// Splits a command line into words like a POSIX shell (no expansions):
///
/// * unquoted spaces, tabs and newlines separate words, so the seed's
///   multi-line form (one option per line) works with or without `\`;
/// * `\` followed by a newline is removed (line continuation); before any
///   other character it makes that character literal;
/// * `'…'` is literal; `"…"` is literal except for `\"`, `\\`, `\$`, `` \` ``
///   and `\`-newline;
/// * `#` starts a comment only at the start of a word, so `a#b` is one word;
/// * unquoted `|`, `&`, `;`, `<`, `>`, `(`, `)` are errors: they are shell
///   operators, and a scenario runs exactly one spark-submit command. (This
///   also catches placeholders like `<MAIN_CLASS>` pasted from documentation.)
pub fn tokenize(line: &str) -> Result<Vec<Token>, SubmitError> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().peekable();
    // The word being built: (text, start offset).
    let mut word: Option<(String, usize)> = None;
    let finish = |word: &mut Option<(String, usize)>, end: usize, tokens: &mut Vec<Token>| {
        if let Some((text, start)) = word.take() {
            tokens.push(Token { text, span: start..end });
        }
    };
    while let Some((i, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => finish(&mut word, i, &mut tokens),
            '\\' => match chars.peek().copied() {
                Some((_, '\n')) => {
                    chars.next();
                }
                Some((j, '\r')) if line[j + 1..].starts_with('\n') => {
                    chars.next();
                    chars.next();
                }
                Some((_, n)) => {
                    word.get_or_insert_with(|| (String::new(), i)).0.push(n);
                    chars.next();
                }
                None => word.get_or_insert_with(|| (String::new(), i)).0.push('\\'),
            },
            '\'' => {
                let buf = &mut word.get_or_insert_with(|| (String::new(), i)).0;
                let mut closed = false;
                for (_, q) in chars.by_ref() {
                    if q == '\'' {
                        closed = true;
                        break;
                    }
                    buf.push(q);
                }
                if !closed {
                    return Err(SubmitError::at(
                        line,
                        i..line.len(),
                        format!("unterminated single quote: the `'` at byte {i} is never closed"),
                    ));
                }
            }
            '"' => {
                let buf = &mut word.get_or_insert_with(|| (String::new(), i)).0;
                let mut closed = false;
                while let Some((_, q)) = chars.next() {
                    match q {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.peek().copied() {
                            Some((_, e @ ('"' | '\\' | '$' | '`'))) => {
                                buf.push(e);
                                chars.next();
                            }
                            Some((_, '\n')) => {
                                chars.next();
                            }
                            _ => buf.push('\\'),
                        },
                        _ => buf.push(q),
                    }
                }
                if !closed {
                    return Err(SubmitError::at(
                        line,
                        i..line.len(),
                        format!("unterminated double quote: the `\"` at byte {i} is never closed"),
                    ));
                }
            }
            '#' if word.is_none() => {
                while let Some((_, n)) = chars.peek() {
                    if *n == '\n' {
                        break;
                    }
                    chars.next();
                }
            }
            '|' | '&' | ';' | '<' | '>' | '(' | ')' => {
                return Err(SubmitError::at(
                    line,
                    i..i + 1,
                    format!(
                        "unquoted `{c}` is a shell operator; a scenario runs one spark-submit \
                         command (quote it if it is part of an argument)"
                    ),
                ));
            }
            _ => word.get_or_insert_with(|| (String::new(), i)).0.push(c),
        }
    }
    finish(&mut word, line.len(), &mut tokens);
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        tokenize(line).unwrap().into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn shell_words() {
        assert_eq!(words("a  'b c' \"d \\\"e\\\"\" f\\ g"), ["a", "b c", "d \"e\"", "f g"]);
        assert_eq!(words("a \\\n  b"), ["a", "b"]);
        assert_eq!(words("a\\\nb"), ["ab"]);
        assert_eq!(words("x=\"1 2\"y a#b # comment\nc"), ["x=1 2y", "a#b", "c"]);
        assert_eq!(words("'it''s' \"\\n\""), ["its", "\\n"]);
        let t = tokenize("ab  'c d'").unwrap();
        assert_eq!(t[1].span, 4..9);
    }

    #[test]
    fn shell_errors() {
        let e = tokenize("a 'b c").unwrap_err();
        assert!(e.message.contains("unterminated single quote"), "{e}");
        assert_eq!(e.offset, 2);
        let e = tokenize("a \"b").unwrap_err();
        assert!(e.message.contains("unterminated double quote"));
        let e = tokenize("--class <MAIN_CLASS>").unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(tokenize("a | b").is_err());
    }
}
