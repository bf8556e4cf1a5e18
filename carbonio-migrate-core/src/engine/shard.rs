//! Splitting accounts over independent processes with `--shard K/N`.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Shard `index` (1-based) of `count`: holds the accounts whose stable hash falls
/// on it. The hash (FNV-1a of the address) is the same on every machine and
/// release, so a shard always gets the same accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// [`Error::Config`] unless `1 <= index <= count`.
    pub fn new(index: u32, count: u32) -> Result<Shard> {
        if count == 0 || index == 0 || index > count {
            return Err(Error::config(format!(
                "--shard {index}/{count}: write K/N with 1 <= K <= N"
            )));
        }
        Ok(Shard { index, count })
    }

    /// 1-based index.
    pub fn index(self) -> u32 {
        self.index
    }

    /// Number of shards.
    pub fn count(self) -> u32 {
        self.count
    }

    /// Whether this shard holds `address`.
    pub fn contains(self, address: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in address.to_ascii_lowercase().bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h % u64::from(self.count) == u64::from(self.index - 1)
    }

    /// Whether this shard also provisions the lists and reports the input errors
    /// all shards share: the first one does, so they are written once.
    pub fn owns_shared_objects(self) -> bool {
        self.index == 1
    }
}

impl FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Shard> {
        let bad = || Error::config(format!("--shard {s:?}: write K/N, for example 2/8"));
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        Shard::new(
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        )
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_accounts() {
        let shards: Vec<Shard> = (1..=4).map(|k| Shard::new(k, 4).unwrap()).collect();
        for i in 0..200 {
            let a = format!("user{i}@example.org");
            assert_eq!(shards.iter().filter(|s| s.contains(&a)).count(), 1, "{a}");
        }
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert_eq!("2/3".parse::<Shard>().unwrap().to_string(), "2/3");
    }
}
