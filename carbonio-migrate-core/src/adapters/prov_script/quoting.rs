//! Quoting of one `carbonio prov -f` argument.
//!
//! `prov -f` reads its file with a `BufferedReader` (UTF-8), joins a line ending
//! in `\` with the next one, and splits each line with `StringUtil.parseLine`
//! (see `docs/design/0002-bundle-format.md` for the rules, read in
//! `zextras/carbonio-mailbox` `common/.../util/StringUtil.java`). In short: words
//! are separated by Java whitespace; a word that *starts* with `'` or `"` runs to
//! the matching quote; a backslash escapes the next character everywhere
//! (`\n`, `\t`, `\r` become control characters, any other escaped character is
//! kept without the backslash). A quote in the middle of a bare word is literal.

/// Characters a bare (unquoted) word may hold: they are never whitespace, quote
/// or backslash to `parseLine`, and keep the file readable.
fn is_bare_safe(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '@' | '.' | '_' | '-' | '+' | '=' | ':' | '/' | ',' | '%')
}

/// Quotes `value` so that `carbonio prov -f` parses it back to exactly `value`.
///
/// - A non-empty value of letters, digits and `@._-+=:/,%` stays bare.
/// - Otherwise, a value without `'`, `\`, CR or LF is put in single quotes
///   (inside them only `'` and `\` are special to `parseLine`).
/// - Anything else goes in double quotes with `\\`, `\"`, `\n`, `\r` and `\t`
///   escaped, so the line never breaks and never ends in a backslash.
///
/// The empty string becomes `''`, which `parseLine` returns as an empty word.
pub fn quote(value: &str) -> String {
    if !value.is_empty() && value.chars().all(is_bare_safe) {
        return value.to_string();
    }
    if !value.contains(['\'', '\\', '\r', '\n']) {
        return format!("'{value}'");
    }
    let mut out = String::with_capacity(value.len() + 8);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Java's `Character.isWhitespace`: Unicode space separators except the
    /// no-break ones, plus the ASCII controls TAB..CR and FS..US.
    fn java_is_whitespace(c: char) -> bool {
        matches!(
            c,
            '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | '\u{1C}'..='\u{1F}'
        ) || (c.is_whitespace()
            && !c.is_ascii_control()
            && !matches!(c, '\u{85}' | '\u{A0}' | '\u{2007}' | '\u{202F}'))
    }

    /// A re-implementation of the splitting rules of `StringUtil.parseLine`, as
    /// documented in the design note, to check [`quote`] against.
    pub(crate) fn parse_line(line: &str) -> Vec<String> {
        #[derive(PartialEq)]
        enum Term {
            Whitespace,
            Single,
            Double,
        }
        let chars: Vec<char> = line.chars().collect();
        let mut result = Vec::new();
        let mut word = String::new();
        let mut term = Term::Whitespace;
        let mut in_word = false;
        let mut i = 0;
        while i < chars.len() {
            let mut ch = chars[i];
            i += 1;
            let mut escaped_term = false;
            if ch == '\\' && i < chars.len() {
                ch = chars[i];
                i += 1;
                match ch {
                    '\\' => {}
                    'n' => {
                        ch = '\n';
                        escaped_term = true;
                    }
                    't' => {
                        ch = '\t';
                        escaped_term = true;
                    }
                    'r' => {
                        ch = '\r';
                        escaped_term = true;
                    }
                    '\'' | '"' => escaped_term = true,
                    other => escaped_term = java_is_whitespace(other),
                }
            }
            if in_word {
                let ends = !escaped_term
                    && ((term == Term::Whitespace && java_is_whitespace(ch))
                        || (term == Term::Single && ch == '\'')
                        || (term == Term::Double && ch == '"'));
                if ends {
                    in_word = false;
                    result.push(std::mem::take(&mut word));
                    term = Term::Whitespace;
                    continue;
                }
                word.push(ch);
            } else if !escaped_term && ch == '\'' {
                term = Term::Single;
                in_word = true;
            } else if !escaped_term && ch == '"' {
                term = Term::Double;
                in_word = true;
            } else if !escaped_term && java_is_whitespace(ch) {
                continue;
            } else {
                in_word = true;
                word.push(ch);
            }
        }
        if !word.is_empty() {
            result.push(word);
        }
        result
    }

    /// `StringUtil.readLine` plus `BufferedReader.readLine`: lines end at LF, CR
    /// or CRLF, and a line ending in `\` continues on the next one.
    pub(crate) fn read_lines(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut pending = String::new();
        for raw in text.split('\n').flat_map(|l| l.split('\r')) {
            if let Some(head) = raw.strip_suffix('\\') {
                pending.push_str(head);
                continue;
            }
            pending.push_str(raw);
            out.push(std::mem::take(&mut pending));
        }
        out
    }

    const NASTY: &[&str] = &[
        "",
        " ",
        "plain",
        "Ada Lovelace",
        "it's",
        "say \"hi\"",
        "both ' and \"",
        "back\\slash",
        "trailing\\",
        "\\",
        "\\\\n",
        "\\n literal",
        "line\nbreak",
        "cr\rlf\r\n",
        "tab\there",
        "  leading and trailing  ",
        "Zoë Ünïcödé 日本語 🦀",
        "em\u{2003}space",
        "nbsp\u{A0}inside",
        "'",
        "\"",
        "''",
        "\"\"",
        "'quoted'",
        "#comment",
        "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
        "-startswithdash",
        "+plus",
        "a'b\"c\\d e\nf",
    ];

    #[test]
    fn quoted_values_parse_back_exactly() {
        for value in NASTY {
            let line = format!("ma {} {} end", quote(value), quote(value));
            let lines = read_lines(&line);
            assert_eq!(lines.len(), 1, "{value:?} broke the line: {line:?}");
            assert_eq!(
                parse_line(&lines[0]),
                vec!["ma", value, value, "end"],
                "{value:?} as {line:?}"
            );
        }
    }

    #[test]
    fn quoted_value_alone_at_line_end_parses_back() {
        for value in NASTY {
            let line = format!("ca {}", quote(value));
            let lines = read_lines(&line);
            assert_eq!(parse_line(&lines[0]), vec!["ca", value], "{line:?}");
        }
    }

    #[test]
    fn safe_tokens_stay_bare_and_others_are_quoted_readably() {
        assert_eq!(quote("ada@example.org"), "ada@example.org");
        assert_eq!(quote("5368709120"), "5368709120");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("Ada Lovelace"), "'Ada Lovelace'");
        assert_eq!(quote("{SSHA}abc="), "'{SSHA}abc='");
        assert_eq!(quote("it's"), "\"it's\"");
        assert_eq!(quote("a\\b"), "\"a\\\\b\"");
        assert_eq!(quote("x\ny"), "\"x\\ny\"");
    }

    #[test]
    fn test_parser_follows_documented_rules() {
        assert_eq!(
            parse_line("this is 'a nother' test"),
            ["this", "is", "a nother", "test"]
        );
        assert_eq!(parse_line("this is\\ test"), ["this", "is test"]);
        assert_eq!(
            parse_line("multi 'Roland\\nSchemers'"),
            ["multi", "Roland\nSchemers"]
        );
        assert_eq!(parse_line("backslash \\f"), ["backslash", "f"]);
        assert_eq!(parse_line("ab'c d"), ["ab'c", "d"]);
        assert_eq!(parse_line("ca x ''"), ["ca", "x", ""]);
        assert_eq!(parse_line("a           b"), ["a", "b"]);
    }
}
