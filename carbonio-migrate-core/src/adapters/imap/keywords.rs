//! Which flags an APPEND sends: keywords the destination would refuse are
//! mapped or dropped by rule instead of failing the message.
//!
//! Carbonio closes a connection after five consecutive errors, so a keyword it
//! would refuse must never reach it. The rules, applied to each keyword:
//!
//! 1. `\Recent` is never sent (only the server sets it); other backslash names
//!    that are system flags (`\seen`, any case) become that system flag; unknown
//!    backslash names are dropped (servers refuse flag extensions they do not
//!    know).
//! 2. Every character that is not an IMAP atom character, and `:` and `/` which
//!    Carbonio refuses in tag names (Zimbra's `NAME:FLAGnnn` tags), becomes `_`:
//!    spaces, controls, `(){%*"\]` and non-ASCII characters (one `_` each).
//! 3. A keyword left without any ASCII letter or digit is dropped (`()`, `"  "`).
//! 4. Keywords are cut to [`MAX_KEYWORD_BYTES`]; duplicates after mapping
//!    (compared case-insensitively, as IMAP compares flags) are sent once.
//! 5. Words that look like system flags without the backslash (`Seen`) stay
//!    keywords: they are valid atoms and mean something else.
//! 6. The whole flag list is cut to a byte budget so the command line stays
//!    under Carbonio's 8 KiB limit; keywords beyond it are dropped, in sorted
//!    order, after every system flag.

use std::collections::BTreeSet;

use crate::model::Flags;

/// The longest keyword sent; Carbonio's tag names are at most 128 characters.
pub const MAX_KEYWORD_BYTES: usize = 128;

/// What became of one keyword that could not be sent as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeywordChange {
    /// Sent under another name.
    Mapped {
        /// The source's keyword.
        from: String,
        /// What is sent.
        to: String,
    },
    /// Not sent.
    Dropped {
        /// The source's keyword.
        keyword: String,
        /// Why.
        reason: &'static str,
    },
}

/// The flags to send with one message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlagPlan {
    /// The flags in IMAP syntax (`\Seen`, `$Forwarded`), system flags first.
    pub flags: Vec<String>,
    /// Keywords mapped or dropped, for the log.
    pub changes: Vec<KeywordChange>,
}

impl FlagPlan {
    /// The flags' encoded length inside `( )`, separators included.
    pub fn encoded_len(&self) -> usize {
        self.flags.iter().map(|f| f.len() + 1).sum()
    }
}

/// True for a byte allowed in an IMAP atom (RFC 3501 `ATOM-CHAR`).
fn is_atom_char(b: u8) -> bool {
    (0x21..0x7f).contains(&b) && !b"(){ %*\"\\]".contains(&b)
}

/// The system flag a backslash name denotes, case-insensitively.
fn system_flag(name: &str) -> Option<&'static str> {
    match name.to_ascii_lowercase().as_str() {
        "\\seen" => Some("\\Seen"),
        "\\answered" => Some("\\Answered"),
        "\\flagged" => Some("\\Flagged"),
        "\\deleted" => Some("\\Deleted"),
        "\\draft" => Some("\\Draft"),
        _ => None,
    }
}

/// What one keyword becomes: `Ok(sent)`, or `Err(reason)` to drop it. System
/// flags spelled as keywords (`\seen`) are recognised by [`plan_flags`] first.
pub fn map_keyword(keyword: &str) -> Result<String, &'static str> {
    if keyword.starts_with('\\') {
        return Err(if keyword.eq_ignore_ascii_case("\\recent") {
            "\\Recent is set by the server only"
        } else {
            "an unknown system flag is refused by servers"
        });
    }
    let mut out = String::with_capacity(keyword.len());
    for c in keyword.chars() {
        let keep = c.is_ascii() && is_atom_char(c as u8) && c != ':' && c != '/';
        out.push(if keep { c } else { '_' });
    }
    if !out.bytes().any(|b| b.is_ascii_alphanumeric()) {
        return Err("no letter or digit is left once invalid characters are replaced");
    }
    if out.len() > MAX_KEYWORD_BYTES {
        // Only ASCII is left, so any byte index is a character boundary.
        out.truncate(MAX_KEYWORD_BYTES);
    }
    Ok(out)
}

/// The flags to send for `flags`, their total encoded length (see
/// [`FlagPlan::encoded_len`]) at most `budget` bytes.
pub fn plan_flags(flags: &Flags, budget: usize) -> FlagPlan {
    let mut plan = FlagPlan::default();
    let mut system: BTreeSet<&'static str> = BTreeSet::new();
    for (set, name) in [
        (flags.seen, "\\Seen"),
        (flags.answered, "\\Answered"),
        (flags.flagged, "\\Flagged"),
        (flags.deleted, "\\Deleted"),
        (flags.draft, "\\Draft"),
    ] {
        if set {
            system.insert(name);
        }
    }
    let mut keywords: Vec<String> = Vec::new();
    let mut seen_lower: BTreeSet<String> = BTreeSet::new();
    for keyword in &flags.keywords {
        if let Some(sys) = system_flag(keyword) {
            system.insert(sys);
            continue;
        }
        match map_keyword(keyword) {
            Ok(sent) => {
                if !seen_lower.insert(sent.to_ascii_lowercase()) {
                    plan.changes.push(KeywordChange::Dropped {
                        keyword: keyword.clone(),
                        reason: "it is the same as another keyword once mapped",
                    });
                    continue;
                }
                if &sent != keyword {
                    plan.changes.push(KeywordChange::Mapped {
                        from: keyword.clone(),
                        to: sent.clone(),
                    });
                }
                keywords.push(sent);
            }
            Err(reason) => plan.changes.push(KeywordChange::Dropped {
                keyword: keyword.clone(),
                reason,
            }),
        }
    }
    // System flags in the model's order, then keywords in the source's order.
    for name in ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"] {
        if system.contains(name) {
            plan.flags.push(name.to_string());
        }
    }
    let mut used = plan.encoded_len();
    for keyword in keywords {
        if used + keyword.len() + 1 > budget {
            plan.changes.push(KeywordChange::Dropped {
                keyword,
                reason: "the command line would exceed the server's line limit",
            });
            continue;
        }
        used += keyword.len() + 1;
        plan.flags.push(keyword);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(keywords: &[&str]) -> Flags {
        Flags {
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            ..Flags::default()
        }
    }

    #[test]
    fn valid_atoms_pass_unchanged() {
        for k in [
            "$Forwarded",
            "$Label1",
            "project_x",
            "Seen",
            "NonJunk",
            "a.b-c+d",
        ] {
            assert_eq!(map_keyword(k).as_deref(), Ok(k), "{k}");
        }
    }

    #[test]
    fn invalid_characters_become_underscores() {
        assert_eq!(map_keyword("NAME:FLAG1").as_deref(), Ok("NAME_FLAG1"));
        assert_eq!(map_keyword("a b").as_deref(), Ok("a_b"));
        assert_eq!(map_keyword("(x)").as_deref(), Ok("_x_"));
        assert_eq!(map_keyword("x%y*z\"w]").as_deref(), Ok("x_y_z_w_"));
        assert_eq!(map_keyword("a{b}").as_deref(), Ok("a_b}"));
        assert_eq!(map_keyword("Übersicht").as_deref(), Ok("_bersicht"));
        assert_eq!(map_keyword("tab\there").as_deref(), Ok("tab_here"));
        assert_eq!(map_keyword("a/b").as_deref(), Ok("a_b"));
    }

    #[test]
    fn empties_and_server_flags_are_dropped() {
        assert!(map_keyword("").is_err());
        assert!(map_keyword("()").is_err());
        assert!(map_keyword("日本").is_err());
        assert_eq!(
            map_keyword("\\Recent"),
            Err("\\Recent is set by the server only")
        );
        assert!(map_keyword("\\Custom").is_err());
    }

    #[test]
    fn long_keywords_are_cut() {
        let long = "k".repeat(300);
        assert_eq!(map_keyword(&long).map(|k| k.len()), Ok(MAX_KEYWORD_BYTES));
    }

    #[test]
    fn plan_orders_system_flags_first_and_reports_changes() {
        let mut f = flags(&["NAME:FLAG1", "$Forwarded", "\\Recent", "\\seen", "()"]);
        f.flagged = true;
        let plan = plan_flags(&f, 4096);
        assert_eq!(
            plan.flags,
            ["\\Seen", "\\Flagged", "$Forwarded", "NAME_FLAG1"]
        );
        assert_eq!(
            plan.changes,
            [
                KeywordChange::Dropped {
                    keyword: "()".into(),
                    reason: "no letter or digit is left once invalid characters are replaced"
                },
                KeywordChange::Mapped {
                    from: "NAME:FLAG1".into(),
                    to: "NAME_FLAG1".into()
                },
                KeywordChange::Dropped {
                    keyword: "\\Recent".into(),
                    reason: "\\Recent is set by the server only"
                },
            ]
        );
    }

    #[test]
    fn collisions_after_mapping_are_sent_once() {
        let plan = plan_flags(&flags(&["a b", "a_b", "A:B"]), 4096);
        assert_eq!(plan.flags, ["A_B"]);
        assert_eq!(plan.changes.len(), 3);
    }

    #[test]
    fn budget_bounds_the_flag_list() {
        let many: Vec<String> = (0..2000).map(|i| format!("keyword{i:05}")).collect();
        let f = Flags {
            seen: true,
            keywords: many.into_iter().collect(),
            ..Flags::default()
        };
        let plan = plan_flags(&f, 4000);
        assert!(plan.encoded_len() <= 4000, "{}", plan.encoded_len());
        assert_eq!(plan.flags[0], "\\Seen");
        assert!(plan.flags.len() > 100);
        assert!(plan.changes.iter().all(
            |c| matches!(c, KeywordChange::Dropped { reason, .. } if reason.contains("line limit"))
        ));
        assert_eq!(plan.flags.len() - 1 + plan.changes.len(), 2000);
    }
}
