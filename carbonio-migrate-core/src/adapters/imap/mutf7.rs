//! Modified UTF-7, the encoding of IMAP mailbox names (RFC 3501 section 5.1.3).
//!
//! Printable ASCII stands for itself except `&`, written `&-`; everything else
//! is UTF-16BE in a base64 variant (`,` instead of `/`, no padding) between
//! `&` and `-`.

use crate::error::{Error, Result};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Encodes a mailbox name for the wire.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Writes a run of UTF-16 units as `&base64-` and empties it.
fn flush(units: &mut Vec<u16>, out: &mut String) {
    if units.is_empty() {
        return;
    }
    let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
    out.push('&');
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let digits = chunk.len() + 1;
        for i in 0..digits {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out.push('-');
    units.clear();
}

/// Decodes a mailbox name from the wire.
///
/// Characters outside printable ASCII are kept as they are, because servers
/// that accept UTF-8 (RFC 6855) send names that way.
///
/// # Errors
/// [`Error::InvalidValue`] naming the name when an `&` run is not closed, holds a
/// character outside the alphabet, leaves stray bits, or is not valid UTF-16.
pub fn decode(wire: &str) -> Result<String> {
    let refuse = |reason: &str| Error::InvalidValue {
        what: "modified UTF-7 mailbox name",
        value: wire.to_string(),
        reason: reason.to_string(),
    };
    let mut out = String::with_capacity(wire.len());
    let mut rest = wire;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('-') else {
            return Err(refuse("an '&' is not closed by '-'"));
        };
        let run = &after[..end];
        if run.is_empty() {
            out.push('&');
        } else {
            out.push_str(&decode_run(run).map_err(|reason| refuse(&reason))?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Decodes the base64 between `&` and `-` into text.
fn decode_run(run: &str) -> std::result::Result<String, String> {
    let mut bits: u32 = 0;
    let mut count = 0u32;
    let mut bytes = Vec::with_capacity(run.len() * 3 / 4);
    for c in run.bytes() {
        let value = ALPHABET
            .iter()
            .position(|a| *a == c)
            .ok_or_else(|| format!("{:?} is not a modified base64 character", char::from(c)))?;
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    if count >= 6 || bits != 0 {
        return Err("the encoded run ends with stray bits".into());
    }
    if bytes.len() % 2 != 0 {
        return Err("the encoded run is not whole UTF-16 units".into());
    }
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| "the encoded run is not valid UTF-16".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_rfc_examples() {
        for (text, wire) in [
            ("Entwürfe", "Entw&APw-rfe"),
            ("日本語/メモ", "&ZeVnLIqe-/&MOEw4g-"),
            ("&", "&-"),
            ("Tom & Jerry", "Tom &- Jerry"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("plain ASCII.name", "plain ASCII.name"),
            ("😀", "&2D3eAA-"),
        ] {
            assert_eq!(encode(text), wire, "{text}");
            assert_eq!(decode(wire).unwrap(), text, "{wire}");
        }
    }

    #[test]
    fn refuses_invalid_input_without_panicking() {
        for (wire, reason) in [
            ("Entw&APw", "not closed"),
            ("&A*w-", "not a modified base64"),
            ("&AP-", "stray bits"),
            ("&APwA-", "whole UTF-16"),
            ("&2D0-", "not valid UTF-16"),
        ] {
            let err = decode(wire).unwrap_err().to_string();
            assert!(err.contains(reason), "{wire}: {err}");
            assert!(err.contains(&format!("{wire:?}")), "{err}");
        }
    }

    #[test]
    fn keeps_raw_utf8_from_utf8_servers() {
        assert_eq!(decode("Entwürfe").unwrap(), "Entwürfe");
    }
}
