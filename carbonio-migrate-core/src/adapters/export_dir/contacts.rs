//! `contacts/<address>.vcf`: the account's contacts, one per `BEGIN:VCARD` ..
//! `END:VCARD` block, read one card at a time.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::Contact;

use super::text_lines::{split_property, unescape_text, unfold, PhysicalLines};

/// A card being read.
struct OpenCard {
    line: u64,
    lines: Vec<String>,
    valid_utf8: bool,
}

/// The contacts of a vCard file, each an item; a broken card (no `END:VCARD`,
/// invalid UTF-8) is an `Err` naming its first line, and reading goes on.
pub(super) struct VcardContacts {
    file: PathBuf,
    lines: PhysicalLines<BufReader<File>>,
    card: Option<OpenCard>,
}

impl VcardContacts {
    /// Opens `file`.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be opened.
    pub fn open(file: &Path) -> Result<Self> {
        let handle =
            File::open(file).map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
        Ok(VcardContacts {
            file: file.to_path_buf(),
            lines: PhysicalLines::new(BufReader::new(handle)),
            card: None,
        })
    }

    fn unclosed(&self, card: &OpenCard) -> Error {
        Error::input(&self.file, Some(card.line), "BEGIN:VCARD has no END:VCARD")
    }

    fn finish(&self, card: OpenCard) -> Result<Contact> {
        if !card.valid_utf8 {
            return Err(Error::input(
                &self.file,
                Some(card.line),
                "the card is not valid utf-8",
            ));
        }
        let mut vcard = String::new();
        for line in &card.lines {
            vcard.push_str(line);
            vcard.push_str("\r\n");
        }
        let mut uid = None;
        let mut full_name = None;
        for logical in unfold(card.lines.iter().map(String::as_str)) {
            let (name, _, value) = split_property(&logical);
            let value = value.trim();
            match name.as_str() {
                "UID" if uid.is_none() && !value.is_empty() => uid = Some(value.to_string()),
                "FN" if full_name.is_none() && !value.is_empty() => {
                    full_name = Some(unescape_text(value));
                }
                _ => {}
            }
        }
        let uid = uid.unwrap_or_else(|| {
            Sha256::digest(vcard.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        });
        Ok(Contact {
            uid,
            full_name,
            vcard,
        })
    }
}

impl Iterator for VcardContacts {
    type Item = Result<Contact>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = match self.lines.next() {
                Some(Ok(line)) => line,
                Some(Err(e)) => {
                    self.card = None;
                    return Some(Err(Error::io(
                        format!("reading {}", self.file.display()),
                        e,
                    )));
                }
                None => {
                    let card = self.card.take()?;
                    return Some(Err(self.unclosed(&card)));
                }
            };
            let text = String::from_utf8(line.text);
            let keyword = text
                .as_deref()
                .map(|t| t.trim().to_ascii_uppercase())
                .unwrap_or_default();
            if keyword == "BEGIN:VCARD" {
                let previous = self.card.replace(OpenCard {
                    line: line.number,
                    lines: vec![text.unwrap_or(keyword)],
                    valid_utf8: true,
                });
                if let Some(previous) = previous {
                    return Some(Err(self.unclosed(&previous)));
                }
                continue;
            }
            let Some(card) = &mut self.card else {
                if !keyword.is_empty() {
                    tracing::warn!(
                        file = %self.file.display(),
                        line = line.number,
                        "ignored: text outside BEGIN:VCARD .. END:VCARD"
                    );
                }
                continue;
            };
            match text {
                Ok(text) => card.lines.push(text),
                Err(_) => card.valid_utf8 = false,
            }
            if keyword == "END:VCARD" {
                let card = self.card.take()?;
                return Some(self.finish(card));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should panic.
mod tests {
    use super::*;

    #[test]
    fn splits_cards_with_uid_or_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ada@x.org.vcf");
        std::fs::write(
            &path,
            "BEGIN:VCARD\nVERSION:3.0\nUID:c1\nFN:Grace\\, Hopper\nEMAIL:g@x.org\nEND:VCARD\r\n\
             begin:vcard\r\nVERSION:4.0\r\nFN:Alan\r\n  Turing\r\nEND:VCARD\r\n\
             BEGIN:VCARD\nFN:Broken\nBEGIN:VCARD\nFN:Last\nEND:VCARD\nBEGIN:VCARD\nFN:cut\n",
        )
        .unwrap();
        let items: Vec<Result<Contact>> = VcardContacts::open(&path).unwrap().collect();
        assert_eq!(items.len(), 5);
        let grace = items[0].as_ref().unwrap();
        assert_eq!(grace.uid, "c1");
        assert_eq!(grace.full_name.as_deref(), Some("Grace, Hopper"));
        assert_eq!(
            grace.vcard,
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nFN:Grace\\, Hopper\r\nEMAIL:g@x.org\r\nEND:VCARD\r\n"
        );
        let alan = items[1].as_ref().unwrap();
        assert!(alan.vcard.starts_with("begin:vcard\r\nVERSION:4.0\r\n"));
        assert_eq!(alan.full_name.as_deref(), Some("Alan Turing"));
        let expected: String = Sha256::digest(alan.vcard.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(alan.uid, expected);
        assert_eq!(alan.uid.len(), 64);
        let err = |i: usize| items[i].as_ref().unwrap_err().to_string();
        assert!(
            err(2).ends_with("ada@x.org.vcf:12: BEGIN:VCARD has no END:VCARD"),
            "{}",
            err(2)
        );
        assert_eq!(
            items[3].as_ref().unwrap().full_name.as_deref(),
            Some("Last")
        );
        assert!(
            err(4).ends_with("ada@x.org.vcf:17: BEGIN:VCARD has no END:VCARD"),
            "{}",
            err(4)
        );
    }
}
