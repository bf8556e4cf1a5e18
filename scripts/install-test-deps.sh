#!/usr/bin/env bash
# Installs the Debian packages the test suite's real servers need, if missing:
#   dovecot-imapd  the private IMAP server of scripts/dovecot.sh
#   isync          mbsync, a reference IMAP client for comparison tests
#   openssl        the private CA and server certificate of scripts/dovecot.sh and scripts/slapd.sh
#   slapd          the private OpenLDAP server of scripts/slapd.sh (slapadd, slappasswd)
#   ldap-utils     ldapadd, used by scripts/slapd.sh add-ldif
# Idempotent: runs `apt-get update` only when something is missing, and says
# what it did. It never starts system services: the tests run their own private
# Dovecot instance (scripts/dovecot.sh), so the Debian one must stay stopped.
set -euo pipefail

packages=(dovecot-imapd isync openssl slapd ldap-utils)

missing=()
for pkg in "${packages[@]}"; do
    # `dpkg -s` also lists removed-but-configured packages; require "install ok installed".
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" = "install ok installed" ]; then
        echo "install-test-deps: $pkg already installed"
    else
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-test-deps: nothing to do"
    exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: missing ${missing[*]}; run this script as root on Debian/Ubuntu" >&2
    exit 1
fi

# A policy-rc.d that refuses every action keeps the package scripts from starting
# (or restarting) the system Dovecot. Install one only if none exists, and remove
# only the one we installed.
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# installed by carbonio-migrate scripts/install-test-deps.sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
fi
cleanup() { if [ -n "$own_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "install-test-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Without systemd (containers) postinst may still have launched the daemon via
# its init script; stop it so it holds no ports. A failure here
# only means it was not running.
# Only the system instance's own PID file is used: private test instances keep
# theirs in their own directories and must not be touched.
if [ -s /run/dovecot/master.pid ]; then
    kill "$(cat /run/dovecot/master.pid)" 2>/dev/null || true
fi
echo "install-test-deps: installed ${missing[*]}"
