#!/usr/bin/env python3
"""Counts the messages and bytes of IMAP accounts (and, on the way, makes
Dovecot index every folder, so the first timed pass does not pay for it).

    mailbox_census.py --port P --master M --password-file F USER [USER...]

Logs in with `LOGIN user*master` (Dovecot master user), EXAMINEs every folder
(read-only: nothing changes) and sums RFC822.SIZE. Prints one line per user:
`user messages=N bytes=B folders=F`. Exit 1 when a login or a command fails.
"""

import argparse
import imaplib
import re
import sys

LIST_LINE = re.compile(rb'^\((?P<attrs>[^)]*)\) (?:"(?P<sep>[^"]*)"|NIL) (?P<name>.+)$')
SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def unquote(name):
    name = name.strip()
    if name.startswith(b'"') and name.endswith(b'"'):
        name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
    return name.decode("ascii")


def census(port, master, password, user):
    imap = imaplib.IMAP4("127.0.0.1", port)
    try:
        imap.login(f"{user}*{master}", password)
        typ, lines = imap.list('""', "*")
        if typ != "OK":
            raise RuntimeError(f"LIST failed for {user}")
        messages = total = folders = 0
        for line in lines:
            if not isinstance(line, bytes):
                continue
            m = LIST_LINE.match(line)
            if not m or b"\\Noselect" in m.group("attrs"):
                continue
            folders += 1
            name = unquote(m.group("name"))
            typ, data = imap.select(f'"{name}"', readonly=True)
            if typ != "OK":
                raise RuntimeError(f"EXAMINE {name} failed for {user}")
            count = int(data[0])
            if count:
                typ, data = imap.fetch("1:*", "(RFC822.SIZE)")
                if typ != "OK":
                    raise RuntimeError(f"FETCH in {name} failed for {user}")
                for item in data:
                    raw = item[0] if isinstance(item, tuple) else item
                    if isinstance(raw, bytes):
                        s = SIZE.search(raw)
                        if s:
                            total += int(s.group(1))
            messages += count
        return messages, total, folders
    finally:
        try:
            imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--master", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("users", nargs="+")
    a = p.parse_args()
    with open(a.password_file, encoding="ascii") as f:
        password = f.readline().strip()
    status = 0
    for user in a.users:
        try:
            messages, total, folders = census(a.port, a.master, password, user)
            print(f"{user} messages={messages} bytes={total} folders={folders}")
        except (imaplib.IMAP4.error, OSError, RuntimeError) as e:
            print(f"{user} error: {e}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
