//! Line ends of the text formats Carbonio imports.

/// Text with every line ending as CRLF (RFC 5545 and 6350 want CRLF; sources
/// give LF, CRLF or a mix), ending with a line end.
pub(crate) fn crlf_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.lines() {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_lines_normalises_line_ends() {
        assert_eq!(crlf_lines("A\nB\r\nC"), "A\r\nB\r\nC\r\n");
        assert_eq!(crlf_lines("A\r\n"), "A\r\n");
        assert_eq!(crlf_lines(""), "");
    }
}
