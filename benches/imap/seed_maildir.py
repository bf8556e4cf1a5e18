#!/usr/bin/env python3
"""Writes a deterministic benchmark mailbox straight into a Dovecot maildir.

    seed_maildir.py --maildir DIR --messages N [--seed S] [--mix realistic|big]
                    [--big-size BYTES] [--big-count K]

Why files and not APPEND: writing the maildir (LAYOUT=fs, as scripts/dovecot.sh
configures it) is about 20x faster than APPEND over a socket, and it lets the
benchmark set what APPEND would also set: flags (`:2,<flags>` suffix, keywords
through `dovecot-keywords`) and the internal date (the file's mtime, which is
what Dovecot reports as INTERNALDATE for maildir). `,S=` and `,W=` in the file
names carry the physical and the CRLF size, so Dovecot indexes the folder
without reading every file. Line ends are LF, as Dovecot stores them.

Size mix (`realistic`): 70% 2-20 KB plain text, 25% 50-500 KB multipart with
base64 attachments, 5% 1-10 MB multipart with base64 attachments. `big`: K
messages of about `--big-size` bytes plus a few small ones. The same seed gives
byte-identical files. Prints `messages=N bytes=B folders=F` on stdout.
"""

import argparse
import base64
import os
import random
import sys
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

# Folder, share of messages. Parents ("Archive", "Projects", "Lists") are real,
# empty mailboxes so both tools see the same hierarchy.
FOLDERS = [
    ("INBOX", 40),
    ("Sent", 15),
    ("Drafts", 2),
    ("Trash", 3),
    ("Archive/2022", 10),
    ("Archive/2023", 10),
    ("Projects/Alpha", 8),
    ("Projects/Beta", 5),
    ("Lists/rust-users", 7),
]
PARENTS = ["Archive", "Projects", "Lists"]
KEYWORDS = ["$Forwarded", "project-x", "$Label1"]

WORDS = (
    "migration mailbox server account folder message budget meeting report "
    "quarter review draft invoice contract schedule project release update "
    "customer delivery network storage backup restore archive calendar team "
    "the of and to in for on with as by at from this that is are was be will "
    "please thanks regards attached below find see next week monday friday"
).split()

ATTACHMENT_TYPES = [
    ("application/pdf", "pdf"),
    ("image/jpeg", "jpg"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ("application/zip", "zip"),
]

# Random bytes that attachments are sliced from: generating 1.7 GB of
# randomness per run would dominate the seeding time.
POOL_SIZE = 12 * 1024 * 1024


def text_block(rng, size):
    """About `size` bytes of LF-terminated lines of words."""
    lines, total = [], 0
    while total < size:
        line = " ".join(rng.choices(WORDS, k=rng.randint(8, 13)))
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def attachment(rng, pool, encoded_size, index):
    """A base64 part whose encoded body is about `encoded_size` bytes."""
    ctype, ext = ATTACHMENT_TYPES[rng.randrange(len(ATTACHMENT_TYPES))]
    # base64.encodebytes: 76 characters + LF per 57 raw bytes.
    raw_len = max(57, encoded_size * 57 // 77)
    chunks, left = [], raw_len
    while left > 0:
        n = min(left, POOL_SIZE // 2)
        start = rng.randrange(POOL_SIZE - n + 1)
        chunks.append(pool[start:start + n])
        left -= n
    body = base64.encodebytes(b"".join(chunks)).decode("ascii")
    name = f"document-{index}.{ext}"
    return (
        f"Content-Type: {ctype}; name=\"{name}\"\n"
        f"Content-Disposition: attachment; filename=\"{name}\"\n"
        f"Content-Transfer-Encoding: base64\n\n{body}"
    )


def message(rng, pool, n, size, date, folder):
    """One RFC 5322 message of about `size` bytes (LF line ends)."""
    sender = f"user{rng.randrange(200)}@example.org"
    rcpt = f"user{rng.randrange(200)}@example.net"
    if folder == "Sent":
        sender, rcpt = rcpt, sender
    subject = " ".join(rng.choices(WORDS, k=rng.randint(3, 8)))
    if rng.random() < 0.1:
        subject = "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?= " + subject
    headers = (
        f"Return-Path: <{sender}>\n"
        f"Received: from mx{n % 7}.example.org (mx{n % 7}.example.org [192.0.2.{n % 250 + 1}])\n"
        f"\tby mail.example.net with ESMTPS id b{n:08x}; {format_datetime(date)}\n"
        f"Message-ID: <bench-{n}-{rng.getrandbits(48):012x}@example.org>\n"
        f"Date: {format_datetime(date - timedelta(seconds=rng.randint(5, 300)))}\n"
        f"From: Sender {n % 200} <{sender}>\n"
        f"To: <{rcpt}>\n"
        f"Subject: {subject}\n"
        f"MIME-Version: 1.0\n"
    )
    if size < 30_000:
        body_size = max(200, size - len(headers) - 60)
        return (
            headers
            + "Content-Type: text/plain; charset=utf-8\n"
            + "Content-Transfer-Encoding: 8bit\n\n"
            + text_block(rng, body_size)
        )
    boundary = f"=_bench_{n}_{rng.getrandbits(32):08x}"
    text = text_block(rng, rng.randint(1000, 5000))
    parts = [
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + text
    ]
    remaining = size - len(headers) - len(text) - 400
    count = 1 if remaining < 300_000 else rng.randint(1, 3)
    for i in range(count):
        parts.append(attachment(rng, pool, max(1000, remaining // count), i + 1))
    out = [headers, f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\n\n",
           "This is a multi-part message in MIME format.\n"]
    for part in parts:
        out.append(f"\n--{boundary}\n{part}")
    out.append(f"\n--{boundary}--\n")
    return "".join(out)


def realistic_size(rng):
    bucket = rng.random()
    if bucket < 0.70:
        return rng.randint(2_000, 20_000)
    if bucket < 0.95:
        return rng.randint(50_000, 500_000)
    return rng.randint(1_000_000, 10_000_000)


def flags_for(rng, folder):
    """Maildir flag letters (ASCII order: system flags, then keyword letters)."""
    letters = set()
    if folder == "Drafts":
        letters.add("D")
    if rng.random() < 0.05:
        letters.add("F")
    if rng.random() < 0.15:
        letters.add("R")
    if folder in ("Sent", "Drafts") or rng.random() < 0.80:
        letters.add("S")
    for i in range(len(KEYWORDS)):
        if rng.random() < (0.10, 0.05, 0.03)[i]:
            letters.add("abc"[i])
    return "".join(sorted(letters))


def folder_dir(maildir, folder):
    return maildir if folder == "INBOX" else os.path.join(maildir, *folder.split("/"))


def make_mailbox(path):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    with open(os.path.join(path, "dovecot-keywords"), "w", encoding="ascii") as f:
        f.writelines(f"{i} {k}\n" for i, k in enumerate(KEYWORDS))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--maildir", required=True)
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--seed", type=int, default=20240501)
    p.add_argument("--mix", choices=["realistic", "big"], default="realistic")
    p.add_argument("--big-size", type=int, default=20_000_000)
    p.add_argument("--big-count", type=int, default=3)
    a = p.parse_args()

    rng = random.Random(a.seed)
    pool = random.Random(a.seed ^ 0x5EED).randbytes(POOL_SIZE)
    for folder, _ in FOLDERS:
        make_mailbox(folder_dir(a.maildir, folder))
    for parent in PARENTS:
        make_mailbox(os.path.join(a.maildir, parent))

    names = [f for f, _ in FOLDERS]
    weights = [w for _, w in FOLDERS]
    start = datetime(2005, 1, 1, tzinfo=timezone.utc)
    span = int((datetime(2024, 12, 31, tzinfo=timezone.utc) - start).total_seconds())
    total = 0
    for n in range(a.messages):
        if a.mix == "big" and n < a.big_count:
            size, folder = a.big_size + rng.randint(0, 100_000), "INBOX"
        else:
            size, folder = realistic_size(rng), rng.choices(names, weights)[0]
            if a.mix == "big":
                size = min(size, 500_000)
        date = start + timedelta(seconds=rng.randrange(span))
        data = message(rng, pool, n, size, date, folder).encode("utf-8")
        vsize = len(data) + data.count(b"\n")
        stamp = int(date.timestamp())
        name = f"{stamp}.M{n:06d}P{a.seed}.bench,S={len(data)},W={vsize}:2,{flags_for(rng, folder)}"
        path = os.path.join(folder_dir(a.maildir, folder), "cur", name)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (stamp, stamp))
        total += len(data)
    print(f"messages={a.messages} bytes={total} folders={len(FOLDERS) + len(PARENTS)}")


if __name__ == "__main__":
    sys.exit(main())
