//! IMAP UID sets: UIDs compressed to ranges (`1:5,9,12:14`) and split so every
//! command line stays under a length limit.

/// The UIDs as sets of ranges, ascending, each set's text at most `max_len`
/// bytes (one range is always sent whole, however long it is: a range is at
/// most 21 bytes). Duplicates are merged; order is not kept (FETCH answers in
/// the server's order anyway).
pub fn uid_sets(uids: &[u32], max_len: usize) -> Vec<String> {
    let mut sorted: Vec<u32> = uids.iter().copied().filter(|u| *u != 0).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for uid in sorted {
        match ranges.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(uid) => *end = uid,
            _ => ranges.push((uid, uid)),
        }
    }
    let mut sets = Vec::new();
    let mut current = String::new();
    for (start, end) in ranges {
        let item = if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        };
        if !current.is_empty() && current.len() + 1 + item.len() > max_len {
            sets.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(',');
        }
        current.push_str(&item);
    }
    if !current.is_empty() {
        sets.push(current);
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_runs_and_merges_duplicates() {
        assert_eq!(
            uid_sets(&[9, 1, 2, 3, 12, 14, 13, 3, 5], 100),
            ["1:3,5,9,12:14"]
        );
        assert!(uid_sets(&[], 100).is_empty());
        assert_eq!(
            uid_sets(&[u32::MAX, u32::MAX - 1], 100),
            ["4294967294:4294967295"]
        );
    }

    #[test]
    fn splits_long_sets_under_the_limit() {
        // Every other UID: no ranges, 20,000 items.
        let uids: Vec<u32> = (1..=40_000).step_by(2).collect();
        let sets = uid_sets(&uids, 8000);
        assert!(sets.len() > 1);
        assert!(
            sets.iter().all(|s| s.len() <= 8000),
            "{:?}",
            sets.iter().map(String::len).max()
        );
        let back: Vec<u32> = sets
            .iter()
            .flat_map(|s| s.split(','))
            .map(|u| u.parse().unwrap())
            .collect();
        assert_eq!(back, uids);
    }
}
