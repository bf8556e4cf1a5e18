//! [`check_source`]: property checks any correct [`Source`] passes, whatever its
//! data. Nothing is written; everything read is hashed as it streams, so a large
//! mailbox is read, not held.

use std::collections::BTreeSet;

use futures::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::check;
use super::report::{ConformanceFailure, ConformanceReport};
use crate::capability::Capability;
use crate::error::Error;
use crate::model::{Account, EmailAddress, FolderPath, MessageBody, MessageMeta, Uid};
use crate::source::{MailboxReader, ResultStream, Source};

/// How far [`check_source_with`] reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceChecks {
    /// How many accounts (the first ones streamed) have their mail, appointments
    /// and contacts checked.
    pub max_accounts: usize,
    /// The `limit` of paged `list` calls, and the batch size of fetches.
    pub page_size: usize,
    /// How many messages of each folder (the highest UIDs) are fetched.
    pub max_fetch_per_folder: usize,
}

impl Default for SourceChecks {
    /// 3 accounts, pages of 7 (odd, so pages rarely align with folder sizes), 200
    /// messages fetched per folder.
    fn default() -> Self {
        SourceChecks {
            max_accounts: 3,
            page_size: 7,
            max_fetch_per_folder: 200,
        }
    }
}

/// Runs the source checks with [`SourceChecks::default`].
///
/// # Errors
/// The first [`ConformanceFailure`].
pub async fn check_source(source: &dyn Source) -> Result<ConformanceReport, ConformanceFailure> {
    check_source_with(source, SourceChecks::default()).await
}

/// Runs the source checks: capabilities truthful, object streams stable and
/// unique, then for the first `max_accounts` accounts their appointments and
/// contacts, and every folder of their mailbox (order, paging, status, fetch
/// order, sizes, repeatability, missing UIDs, unknown folder).
///
/// # Errors
/// The first [`ConformanceFailure`], naming the check, account and folder.
pub async fn check_source_with(
    source: &dyn Source,
    checks: SourceChecks,
) -> Result<ConformanceReport, ConformanceFailure> {
    let mut report = ConformanceReport::new(source.kind());
    // Capabilities first, so a declared stream answering Unsupported is named as
    // such and not as an unstable stream.
    let probe = first_account(source).await;
    check_capabilities(source, probe.as_ref(), &mut report).await?;
    let accounts = check_directory(source, &checks, &mut report).await?;
    if accounts.is_empty() {
        report.skip(
            check::SOURCE_FOLDERS,
            "no account to read mail, appointments or contacts of",
        );
    }
    for account in &accounts {
        check_account_items(source, account, &mut report).await?;
        if source.capabilities().has(Capability::Mail) {
            check_mailbox(source, account, &checks, &mut report).await?;
        }
    }
    Ok(report)
}

/// The first account streamed, to call the per-account methods with; `None` when
/// accounts are not declared or none can be read.
async fn first_account(source: &dyn Source) -> Option<Account> {
    if !source.capabilities().has(Capability::Accounts) {
        return None;
    }
    let mut stream = source.accounts().await.ok()?;
    while let Some(item) = stream.next().await {
        if let Ok(account) = item {
            return Some(account);
        }
    }
    None
}

/// What a call answered, for the capability check.
enum Answer {
    Supported,
    Unsupported { adapter: String },
    Failed(String),
}

fn answer<T>(result: crate::Result<T>) -> Answer {
    match result {
        Ok(_) => Answer::Supported,
        Err(Error::Unsupported { adapter, .. }) => Answer::Unsupported { adapter },
        Err(e) => Answer::Failed(e.to_string()),
    }
}

async fn check_capabilities(
    source: &dyn Source,
    account: Option<&Account>,
    report: &mut ConformanceReport,
) -> Result<(), ConformanceFailure> {
    let caps = source.capabilities();
    let kind = source.kind();
    let probe;
    let account = match account {
        Some(a) => a,
        None => {
            let address = EmailAddress::parse("conformance-probe@example.invalid")
                .map_err(|e| ConformanceFailure::new(check::SOURCE_CAPABILITIES, e.to_string()))?;
            probe = Account::new(address);
            &probe
        }
    };
    for cap in Capability::ALL {
        let (method, got) = match cap {
            Capability::Domains => ("domains()", answer(source.domains().await)),
            Capability::ClassesOfService => (
                "classes_of_service()",
                answer(source.classes_of_service().await),
            ),
            Capability::Accounts => ("accounts()", answer(source.accounts().await)),
            Capability::DistributionLists => (
                "distribution_lists()",
                answer(source.distribution_lists().await),
            ),
            Capability::Mail => ("mailbox()", answer(source.mailbox(account).await)),
            Capability::Appointments => {
                ("appointments()", answer(source.appointments(account).await))
            }
            Capability::Contacts => ("contacts()", answer(source.contacts(account).await)),
            other => {
                if caps.has(other) {
                    report.skip(
                        check::SOURCE_CAPABILITIES,
                        format!("a source has no method for {other}, so it is not checked"),
                    );
                }
                continue;
            }
        };
        let fail =
            |detail: String| Err(ConformanceFailure::new(check::SOURCE_CAPABILITIES, detail));
        match (caps.has(cap), got) {
            (true, Answer::Unsupported { .. }) => {
                return fail(format!(
                    "{cap} is declared but {method} returned Unsupported"
                ));
            }
            (false, Answer::Supported) => {
                return fail(format!(
                    "{cap} is not declared but {method} succeeded instead of returning Unsupported"
                ));
            }
            (false, Answer::Failed(e)) => {
                return fail(format!(
                    "{cap} is not declared but {method} returned \"{e}\" instead of Unsupported"
                ));
            }
            (false, Answer::Unsupported { adapter }) if adapter != kind => {
                return fail(format!(
                    "{method} returned Unsupported naming adapter '{adapter}', not '{kind}'"
                ));
            }
            _ => {}
        }
    }
    report.pass(check::SOURCE_CAPABILITIES, "");
    Ok(())
}

/// A stream item reduced to its identity and a hash of its serialized form, so two
/// runs compare without holding both (a password changes the hash, never a message).
type Fingerprint = (String, [u8; 32]);

async fn fingerprints<T: Serialize>(
    mut stream: ResultStream<'_, T>,
    identity: impl Fn(&T) -> String,
) -> Vec<Fingerprint> {
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        // An Err item is a bad record; the contract lets the stream go on.
        if let Ok(item) = item {
            let bytes = serde_json::to_vec(&item).unwrap_or_default();
            out.push((identity(&item), Sha256::digest(&bytes).into()));
        }
    }
    out
}

fn same_runs(what: &str, first: &[Fingerprint], second: &[Fingerprint]) -> Result<(), String> {
    for (i, pair) in first.iter().zip(second).enumerate() {
        if pair.0 != pair.1 {
            let (a, b) = pair;
            return Err(if a.0 == b.0 {
                format!("{what} item {i} ({}) differs between two calls", a.0)
            } else {
                format!(
                    "{what} item {i} is {} on the first call and {} on the second",
                    a.0, b.0
                )
            });
        }
    }
    if first.len() != second.len() {
        return Err(format!(
            "{what} yielded {} items on the first call and {} on the second",
            first.len(),
            second.len()
        ));
    }
    Ok(())
}

fn unique(what: &str, items: &[Fingerprint]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for (identity, _) in items {
        if !seen.insert(identity) {
            return Err(format!("{what} yields {identity} twice"));
        }
    }
    Ok(())
}

/// Streams a declared object kind twice and compares; `None` when not declared.
macro_rules! twice {
    ($source:expr, $cap:expr, $call:ident ( $($arg:expr),* ), $identity:expr) => {{
        if $source.capabilities().has($cap) {
            let mut runs = Vec::with_capacity(2);
            for _ in 0..2 {
                let stream = $source.$call($($arg),*).await.map_err(|e| {
                    ConformanceFailure::new(
                        check::SOURCE_STREAMS_STABLE,
                        format!("{}() failed: {e}", stringify!($call)),
                    )
                })?;
                runs.push(fingerprints(stream, $identity).await);
            }
            let second = runs.pop().unwrap_or_default();
            let first = runs.pop().unwrap_or_default();
            Some((first, second))
        } else {
            None
        }
    }};
}

/// Domains, classes of service, accounts and lists: stable, accounts unique.
/// Returns the first `max_accounts` accounts.
async fn check_directory(
    source: &dyn Source,
    checks: &SourceChecks,
    report: &mut ConformanceReport,
) -> Result<Vec<Account>, ConformanceFailure> {
    let stable = |what: &str,
                  runs: Option<(Vec<Fingerprint>, Vec<Fingerprint>)>,
                  report: &mut ConformanceReport| {
        match runs {
            Some((a, b)) => {
                same_runs(what, &a, &b)
                    .map_err(|d| ConformanceFailure::new(check::SOURCE_STREAMS_STABLE, d))?;
                report.pass(check::SOURCE_STREAMS_STABLE, what);
                Ok(Some(a))
            }
            None => {
                report.skip(
                    check::SOURCE_STREAMS_STABLE,
                    format!("{what}: not declared"),
                );
                Ok(None)
            }
        }
    };
    let runs = twice!(
        source,
        Capability::Domains,
        domains(),
        |d: &crate::model::Domain| d.name.to_string()
    );
    stable("domains", runs, report)?;
    let runs = twice!(
        source,
        Capability::ClassesOfService,
        classes_of_service(),
        |c: &crate::model::Cos| c.name.to_string()
    );
    stable("classes of service", runs, report)?;
    let runs = twice!(
        source,
        Capability::DistributionLists,
        distribution_lists(),
        |l: &crate::model::DistributionList| l.address.to_string()
    );
    stable("distribution lists", runs, report)?;
    let runs = twice!(source, Capability::Accounts, accounts(), |a: &Account| a
        .address
        .to_string());
    let Some(accounts) = stable("accounts", runs, report)? else {
        return Ok(Vec::new());
    };
    unique("accounts", &accounts).map_err(|d| ConformanceFailure::new(check::SOURCE_UNIQUE, d))?;
    report.pass(check::SOURCE_UNIQUE, "accounts");

    let mut chosen = Vec::new();
    let mut stream = source
        .accounts()
        .await
        .map_err(|e| ConformanceFailure::new(check::SOURCE_STREAMS_STABLE, e.to_string()))?;
    while let Some(item) = stream.next().await {
        if chosen.len() >= checks.max_accounts {
            break;
        }
        if let Ok(account) = item {
            chosen.push(account);
        }
    }
    Ok(chosen)
}

/// Appointments and contacts of one account: stable, UIDs unique.
async fn check_account_items(
    source: &dyn Source,
    account: &Account,
    report: &mut ConformanceReport,
) -> Result<(), ConformanceFailure> {
    let address = &account.address;
    let with_account = |f: ConformanceFailure| f.account(address);
    let mut both = Vec::new();
    let runs = twice!(
        source,
        Capability::Appointments,
        appointments(account),
        |a: &crate::model::Appointment| a.uid.clone()
    );
    both.push(("appointments", runs));
    let runs = twice!(
        source,
        Capability::Contacts,
        contacts(account),
        |c: &crate::model::Contact| c.uid.clone()
    );
    both.push(("contacts", runs));
    for (what, runs) in both {
        let Some((first, second)) = runs else {
            continue;
        };
        same_runs(what, &first, &second)
            .map_err(|d| with_account(ConformanceFailure::new(check::SOURCE_STREAMS_STABLE, d)))?;
        report.pass(check::SOURCE_STREAMS_STABLE, format!("{address} {what}"));
        unique(what, &first)
            .map_err(|d| with_account(ConformanceFailure::new(check::SOURCE_UNIQUE, d)))?;
        report.pass(check::SOURCE_UNIQUE, format!("{address} {what}"));
    }
    Ok(())
}

async fn check_mailbox(
    source: &dyn Source,
    account: &Account,
    checks: &SourceChecks,
    report: &mut ConformanceReport,
) -> Result<(), ConformanceFailure> {
    let address = &account.address;
    let fail = |check: &'static str, detail: String| {
        ConformanceFailure::new(check, detail).account(address)
    };
    let mut reader = source
        .mailbox(account)
        .await
        .map_err(|e| fail(check::SOURCE_FOLDERS, format!("mailbox() failed: {e}")))?;
    let folders = reader
        .folders()
        .await
        .map_err(|e| fail(check::SOURCE_FOLDERS, format!("folders() failed: {e}")))?;
    let mut seen: Vec<&FolderPath> = Vec::with_capacity(folders.len());
    for (i, folder) in folders.iter().enumerate() {
        let path = &folder.path;
        if seen.contains(&path) {
            return Err(fail(
                check::SOURCE_FOLDERS,
                format!("folder {path} is listed twice"),
            ));
        }
        if let Some(parent) = path.parent() {
            if folders[i + 1..].iter().any(|f| f.path == parent) {
                return Err(fail(
                    check::SOURCE_FOLDERS,
                    format!("folder {path} is listed before its parent {parent}"),
                ));
            }
        }
        seen.push(path);
    }
    report.pass(check::SOURCE_FOLDERS, address.to_string());

    for folder in &folders {
        check_folder(reader.as_mut(), address, &folder.path, checks, report).await?;
    }

    let missing = FolderPath::new([format!("conformance-missing-{:08x}", rand::random::<u32>())])
        .map_err(|e| fail(check::SOURCE_UNKNOWN_FOLDER, e.to_string()))?;
    if let Ok(listed) = reader.list(&missing, None, checks.page_size.max(1)).await {
        return Err(fail(
            check::SOURCE_UNKNOWN_FOLDER,
            format!(
                "listing the folder {missing}, which does not exist, succeeded with {} messages",
                listed.len()
            ),
        )
        .folder(&missing));
    }
    report.pass(check::SOURCE_UNKNOWN_FOLDER, address.to_string());
    Ok(())
}

fn uid_text(uids: &[Uid]) -> String {
    let shown: Vec<String> = uids.iter().take(20).map(Uid::to_string).collect();
    let more = if uids.len() > 20 { " ..." } else { "" };
    format!("[{}{more}]", shown.join(", "))
}

fn strictly_increasing(metas: &[MessageMeta]) -> Result<(), String> {
    for pair in metas.windows(2) {
        if pair[1].uid <= pair[0].uid {
            return Err(format!(
                "uid {} comes after uid {}",
                pair[1].uid, pair[0].uid
            ));
        }
    }
    Ok(())
}

async fn check_folder(
    reader: &mut dyn MailboxReader,
    account: &EmailAddress,
    path: &FolderPath,
    checks: &SourceChecks,
    report: &mut ConformanceReport,
) -> Result<(), ConformanceFailure> {
    let fail = |check: &'static str, detail: String| {
        ConformanceFailure::new(check, detail)
            .account(account)
            .folder(path)
    };
    let subject = format!("{account} {path}");
    let page_size = checks.page_size.max(1);

    let full = reader.list(path, None, usize::MAX).await.map_err(|e| {
        fail(
            check::SOURCE_LIST_PAGING,
            format!("list(None, max) failed: {e}"),
        )
    })?;
    strictly_increasing(&full)
        .map_err(|d| fail(check::SOURCE_LIST_PAGING, format!("list(None, max): {d}")))?;

    let mut after: Option<Uid> = None;
    let mut pages = 0usize;
    let mut paged = 0usize;
    loop {
        let page = reader.list(path, after, page_size).await.map_err(|e| {
            fail(
                check::SOURCE_LIST_PAGING,
                format!("list(after {after:?}, {page_size}) failed: {e}"),
            )
        })?;
        let shown_after = after.map_or("none".to_string(), |u| u.to_string());
        if page.len() > page_size {
            return Err(fail(
                check::SOURCE_LIST_PAGING,
                format!(
                    "list(after {shown_after}, limit {page_size}) returned {} messages",
                    page.len()
                ),
            ));
        }
        if let Some(bad) = page.iter().find(|m| after.is_some_and(|a| m.uid <= a)) {
            return Err(fail(
                check::SOURCE_LIST_PAGING,
                format!(
                    "list(after {shown_after}) returned uid {}, which is not after {shown_after}",
                    bad.uid
                ),
            ));
        }
        strictly_increasing(&page).map_err(|d| {
            fail(
                check::SOURCE_LIST_PAGING,
                format!("list(after {shown_after}): {d}"),
            )
        })?;
        let Some(last) = page.last() else { break };
        for (i, meta) in page.iter().enumerate() {
            if full.get(paged + i) != Some(meta) {
                return Err(fail(
                    check::SOURCE_LIST_PAGING,
                    format!(
                        "page {pages} item {i} (uid {}) is not message {} of list(None, max)",
                        meta.uid,
                        paged + i
                    ),
                ));
            }
        }
        paged += page.len();
        pages += 1;
        after = Some(last.uid);
    }
    if paged != full.len() {
        return Err(fail(
            check::SOURCE_LIST_PAGING,
            format!(
                "pages of {page_size} gave {paged} messages, list(None, max) gave {}",
                full.len()
            ),
        ));
    }
    report.pass(check::SOURCE_LIST_PAGING, subject.clone());

    let status = reader
        .status(path)
        .await
        .map_err(|e| fail(check::SOURCE_STATUS_COUNT, format!("status() failed: {e}")))?;
    if status.messages != full.len() as u64 {
        return Err(fail(
            check::SOURCE_STATUS_COUNT,
            format!(
                "status() counts {} messages, list gives {}",
                status.messages,
                full.len()
            ),
        ));
    }
    report.pass(check::SOURCE_STATUS_COUNT, subject.clone());

    // The highest UIDs, asked in reverse order, in batches.
    let sample: Vec<&MessageMeta> = full
        .iter()
        .rev()
        .take(checks.max_fetch_per_folder)
        .collect();
    let mut first_digests = Vec::with_capacity(sample.len());
    for batch in sample.chunks(page_size) {
        let uids: Vec<Uid> = batch.iter().map(|m| m.uid).collect();
        let fetched = fetch_all(reader, path, &uids)
            .await
            .map_err(|d| fail(check::SOURCE_FETCH_ORDER, d))?;
        let got: Vec<Uid> = fetched.iter().map(|f| f.meta.uid).collect();
        if got != uids {
            return Err(fail(
                check::SOURCE_FETCH_ORDER,
                format!("fetch of {} yielded {}", uid_text(&uids), uid_text(&got)),
            ));
        }
        for (want, f) in batch.iter().zip(&fetched) {
            if f.announced != want.size || f.read != want.size {
                return Err(fail(
                    check::SOURCE_FETCH_BODY,
                    format!(
                        "uid {}: list gives size {}, the body announces {} and yields {} bytes",
                        want.uid, want.size, f.announced, f.read
                    ),
                ));
            }
            if &f.meta != *want {
                return Err(fail(
                    check::SOURCE_FETCH_BODY,
                    format!(
                        "uid {}: fetch gives other metadata (flags, date or size) than list",
                        want.uid
                    ),
                ));
            }
            first_digests.push((want.uid, f.digest));
        }
    }
    report.pass(check::SOURCE_FETCH_ORDER, subject.clone());
    report.pass(check::SOURCE_FETCH_BODY, subject.clone());

    let mut again = first_digests.iter();
    for batch in sample.chunks(page_size) {
        let uids: Vec<Uid> = batch.iter().map(|m| m.uid).collect();
        let fetched = fetch_all(reader, path, &uids)
            .await
            .map_err(|d| fail(check::SOURCE_FETCH_REPEATABLE, d))?;
        for f in fetched {
            if again.next().map(|(_, d)| *d) != Some(f.digest) {
                return Err(fail(
                    check::SOURCE_FETCH_REPEATABLE,
                    format!("uid {}: a second fetch yields other bytes", f.meta.uid),
                ));
            }
        }
    }
    report.pass(check::SOURCE_FETCH_REPEATABLE, subject.clone());

    let last = full.last().map(|m| m.uid);
    let first = full.first().map(|m| m.uid);
    let beyond = last.map_or(Uid::new(1), |u| Uid::new(u.get().saturating_add(1)));
    match beyond {
        Some(missing) if Some(missing) != last => {
            let mut ask = Vec::new();
            ask.extend(last);
            ask.push(missing);
            if first != last {
                ask.extend(first);
            }
            let want: Vec<Uid> = ask.iter().copied().filter(|u| *u != missing).collect();
            let fetched = fetch_all(reader, path, &ask)
                .await
                .map_err(|d| fail(check::SOURCE_FETCH_MISSING, d))?;
            let got: Vec<Uid> = fetched.iter().map(|f| f.meta.uid).collect();
            if got != want {
                return Err(fail(
                    check::SOURCE_FETCH_MISSING,
                    format!(
                        "fetch of {} (uid {missing} does not exist) yielded {}, wanted {}",
                        uid_text(&ask),
                        uid_text(&got),
                        uid_text(&want)
                    ),
                ));
            }
            report.pass(check::SOURCE_FETCH_MISSING, subject);
        }
        _ => report.skip(
            check::SOURCE_FETCH_MISSING,
            format!("{subject}: no UID is free"),
        ),
    }
    Ok(())
}

/// A fetched message reduced to what the checks compare.
struct Fetched {
    meta: MessageMeta,
    announced: u64,
    read: u64,
    digest: [u8; 32],
}

async fn digest(body: MessageBody) -> std::io::Result<(u64, u64, [u8; 32])> {
    let announced = body.len();
    let mut reader = body.into_reader();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut read = 0u64;
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        read += n as u64;
    }
    Ok((announced, read, hasher.finalize().into()))
}

async fn fetch_all(
    reader: &mut dyn MailboxReader,
    path: &FolderPath,
    uids: &[Uid],
) -> Result<Vec<Fetched>, String> {
    let mut stream = reader
        .fetch(path, uids)
        .await
        .map_err(|e| format!("fetch of {} failed: {e}", uid_text(uids)))?;
    let mut out = Vec::with_capacity(uids.len());
    while let Some(item) = stream.next().await {
        let message =
            item.map_err(|e| format!("fetch of {} yielded an error: {e}", uid_text(uids)))?;
        let uid = message.meta.uid;
        let (announced, read, digest) = digest(message.body)
            .await
            .map_err(|e| format!("reading the body of uid {uid} failed: {e}"))?;
        out.push(Fetched {
            meta: message.meta,
            announced,
            read,
            digest,
        });
    }
    Ok(out)
}
