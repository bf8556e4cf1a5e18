#!/usr/bin/env bash
# A private OpenLDAP slapd for tests, whose whole state lives in one directory.
#
#   scripts/slapd.sh start <dir> [--parent-pid PID] [--remove-on-exit] [--ldif FILE]...
#   scripts/slapd.sh stop <dir>
#   scripts/slapd.sh add-ldif <dir> <file>
#
# `start` writes into <dir>: slapd.d/ (a cn=config built with `slapadd -n0` from
# config.ldif; /etc/ldap is never read, only the stock schema files), db/example
# and db/corp (two mdb databases), ca.pem/ca.key and server.crt/server.key (a
# private CA and a certificate for localhost and 127.0.0.1), root_password and
# reader_password (random, no trailing newline, so `ldapadd -y` can read them),
# run/slapd.pid, log/ and ports (`ldap=NNNN ldaps=NNNN`, also printed).
#
# Two suffixes, loaded offline with slapadd before the server starts:
#   dc=example,dc=org          an OpenLDAP-shaped tree (scripts/ldap/openldap-tree.ldif)
#   DC=corp,DC=example,DC=com  an Active Directory-shaped tree (scripts/ldap/ad-tree.ldif,
#                              schema scripts/ldap/ad.ldif)
# Each --ldif FILE is loaded the same way (the fast path for 10,000 entries),
# into the suffix its first `dn:` ends with.
#
# Limits mimic Active Directory's MaxPageSize: a plain search stops at 500
# entries (sizeLimitExceeded), a paged search (RFC 2696) returns pages of at
# most 500 and every entry in total. The root DN `cn=admin,dc=example,dc=org`
# is exempt from limits (slapd always exempts it), so tests that exercise paging
# bind as `cn=reader,dc=example,dc=org`, which may read both suffixes, userPassword
# included, and write nothing.
#
# Listens on 127.0.0.1 only: ldap:// (StartTLS offered) and ldaps://, on free
# ports it picks. With --parent-pid, a watchdog stops the server (and with
# --remove-on-exit deletes <dir>) within a second of that process exiting.
#
# Exit codes: 0 ok, 1 failure (log tail printed), 2 usage, 3 slapd not installed.
set -euo pipefail

usage() {
    echo "usage: $0 start <dir> [--parent-pid PID] [--remove-on-exit] [--ldif FILE]... | stop <dir> | add-ldif <dir> <file>" >&2
    exit 2
}

here=$(dirname "$(readlink -f "$0")")
ldap_dir=$here/ldap
SLAPD=${SLAPD:-}
SCHEMA_DIR=${SCHEMA_DIR:-/etc/ldap/schema}
MODULE_DIR=${MODULE_DIR:-/usr/lib/ldap}
EXAMPLE_SUFFIX="dc=example,dc=org"
CORP_SUFFIX="DC=corp,DC=example,DC=com"
ROOT_DN="cn=admin,$EXAMPLE_SUFFIX"
READER_DN="cn=reader,$EXAMPLE_SUFFIX"

find_slapd() {
    if [ -z "$SLAPD" ]; then
        SLAPD=$(command -v slapd 2>/dev/null || true)
        [ -n "$SLAPD" ] || SLAPD=/usr/sbin/slapd
    fi
    if [ ! -x "$SLAPD" ]; then
        echo "slapd.sh: slapd not found ($SLAPD); install it with scripts/install-test-deps.sh (as root)" >&2
        exit 3
    fi
    local tool
    for tool in slapadd slappasswd; do
        if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
            echo "slapd.sh: $tool not found; install slapd with scripts/install-test-deps.sh (as root)" >&2
            exit 3
        fi
    done
    if ! command -v openssl >/dev/null 2>&1; then
        echo "slapd.sh: openssl not found; install it with scripts/install-test-deps.sh (as root)" >&2
        exit 3
    fi
}

sbin() {
    local tool=$1
    shift
    if command -v "$tool" >/dev/null 2>&1; then "$tool" "$@"; else "/usr/sbin/$tool" "$@"; fi
}

# A live process: `kill -0` succeeds on zombies too, and in containers whose
# PID 1 does not reap, the exited daemon stays a zombie.
alive() {
    local pid=$1 state
    kill -0 "$pid" 2>/dev/null || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo X)
    [ "$state" != Z ] && [ "$state" != X ]
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Below the Linux ephemeral range (32768+), so outgoing connections never hold it.
pick_port() {
    local port
    while :; do
        port=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
        port_open "$port" || { echo "$port"; return; }
    done
}

make_tls() {
    local dir=$1
    [ -s "$dir/server.crt" ] && return
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 3650 \
        -subj "/CN=carbonio-migrate test LDAP CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' \
        "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 825 -sha256 \
        -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
    rm -f "$dir/server.csr" "$dir/server.ext"
    chmod 600 "$dir/ca.key" "$dir/server.key"
}

database_config() {
    local dir=$1 index=$2 name=$3 suffix=$4 root_hash=$5
    cat <<EOF
dn: olcDatabase={$index}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {$index}mdb
olcDbDirectory: $dir/db/$name
olcSuffix: $suffix
olcRootDN: cn=admin,$suffix
olcRootPW: $root_hash
olcDbMaxSize: 2147483648
olcDbIndex: objectClass eq
olcDbIndex: mail eq
olcDbIndex: member eq
olcDbIndex: uniqueMember eq
olcLimits: {0}* size.soft=500 size.hard=500 size.pr=500 size.prtotal=unlimited
olcAccess: {0}to * by dn.exact="$ROOT_DN" manage by dn.exact="$READER_DN" read by anonymous auth by * none

EOF
}

write_config() {
    local dir=$1 root_hash=$2
    {
        cat <<EOF
# Generated by scripts/slapd.sh: a private test instance. Complete on purpose:
# nothing from /etc/ldap/slapd.d applies.
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $dir/run/slapd.pid
olcArgsFile: $dir/run/slapd.args
olcLogLevel: none
olcTLSCACertificateFile: $dir/ca.pem
olcTLSCertificateFile: $dir/server.crt
olcTLSCertificateKeyFile: $dir/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $MODULE_DIR
olcModuleLoad: {0}back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://$SCHEMA_DIR/core.ldif

include: file://$SCHEMA_DIR/cosine.ldif

include: file://$SCHEMA_DIR/inetorgperson.ldif

include: file://$SCHEMA_DIR/nis.ldif

include: file://$ldap_dir/ad.ldif

include: file://$ldap_dir/mail-recipient.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 500

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

EOF
        database_config "$dir" 1 example "$EXAMPLE_SUFFIX" "$root_hash"
        database_config "$dir" 2 corp "$CORP_SUFFIX" "$root_hash"
    } >"$dir/config.ldif"
}

# The suffix an LDIF file's first entry belongs to.
suffix_of() {
    local first
    first=$(grep -m1 -i '^dn:' "$1" | tr '[:upper:]' '[:lower:]' | tr -d ' \r')
    case $first in
    *,dc=corp,dc=example,dc=com | dn:dc=corp,dc=example,dc=com) echo "$CORP_SUFFIX" ;;
    *) echo "$EXAMPLE_SUFFIX" ;;
    esac
}

load_offline() {
    local dir=$1 file=$2
    sbin slapadd -q -F "$dir/slapd.d" -b "$(suffix_of "$file")" -l "$file" \
        >>"$dir/log/slapadd.log" 2>&1 || {
        echo "slapd.sh: slapadd of $file failed:" >&2
        tail -n 20 "$dir/log/slapadd.log" >&2
        exit 1
    }
}

stop_server() {
    local dir=$1 pid i
    if [ -s "$dir/run/watchdog.pid" ]; then
        pid=$(cat "$dir/run/watchdog.pid")
        # Not the caller itself (the watchdog runs `stop` when the parent dies).
        if [ "$pid" != "$$" ]; then
            kill "$pid" 2>/dev/null || true
        fi
        rm -f "$dir/run/watchdog.pid"
    fi
    [ -s "$dir/run/slapd.pid" ] || return 0
    pid=$(cat "$dir/run/slapd.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    rm -f "$dir/run/slapd.pid"
}

start_watchdog() {
    local dir=$1 parent=$2 remove=$3
    # setsid: out of the test's process group and session, so Ctrl-C or the
    # terminal closing does not kill the watchdog before it has cleaned up.
    setsid "$(readlink -f "$0")" _watchdog "$dir" "$parent" "$remove" \
        </dev/null >>"$dir/log/watchdog.log" 2>&1 &
    echo $! >"$dir/run/watchdog.pid"
}

# Polls once a second; `stop` kills it when the server is stopped normally.
cmd_watchdog() {
    local dir=$1 parent=$2 remove=$3 server
    server=$(cat "$dir/run/slapd.pid")
    while alive "$parent" && alive "$server"; do
        sleep 1
    done
    if alive "$server"; then
        stop_server "$dir"
    fi
    if [ "$remove" = 1 ] && ! alive "$parent"; then
        rm -rf "$dir"
    fi
}

cmd_start() {
    local dir="" parent="" remove=0 extra=()
    [ $# -ge 1 ] || usage
    dir=$1
    shift
    while [ $# -gt 0 ]; do
        case $1 in
        --parent-pid) parent=${2:?}; shift 2 ;;
        --remove-on-exit) remove=1; shift ;;
        --ldif) extra+=("$(readlink -f "${2:?}")"); shift 2 ;;
        *) usage ;;
        esac
    done
    find_slapd
    mkdir -p "$dir"
    dir=$(readlink -f "$dir")
    if [ -s "$dir/run/slapd.pid" ] && alive "$(cat "$dir/run/slapd.pid")"; then
        echo "slapd.sh: already running in $dir" >&2
        exit 1
    fi
    mkdir -p "$dir/run" "$dir/log" "$dir/db/example" "$dir/db/corp"
    make_tls "$dir"

    if [ ! -d "$dir/slapd.d" ]; then
        (umask 077 && openssl rand -hex 16 | tr -d '\n' >"$dir/root_password")
        (umask 077 && openssl rand -hex 16 | tr -d '\n' >"$dir/reader_password")
        local root_hash reader_hash
        root_hash=$(sbin slappasswd -h '{SSHA}' -T "$dir/root_password")
        reader_hash=$(sbin slappasswd -h '{SSHA}' -T "$dir/reader_password")
        write_config "$dir" "$root_hash"
        mkdir -p "$dir/slapd.d"
        sbin slapadd -n0 -F "$dir/slapd.d" -l "$dir/config.ldif" >>"$dir/log/slapadd.log" 2>&1 || {
            echo "slapd.sh: building cn=config in $dir failed:" >&2
            tail -n 20 "$dir/log/slapadd.log" >&2
            exit 1
        }
        sed "s|@READER_PASSWORD@|$reader_hash|" "$ldap_dir/openldap-tree.ldif" >"$dir/openldap-tree.ldif"
        load_offline "$dir" "$dir/openldap-tree.ldif"
        load_offline "$dir" "$ldap_dir/ad-tree.ldif"
        local file
        for file in ${extra[@]+"${extra[@]}"}; do
            load_offline "$dir" "$file"
        done
    fi

    local attempt ldap ldaps
    for attempt in 1 2 3 4 5; do
        ldap=$(pick_port)
        ldaps=$(pick_port)
        [ "$ldap" != "$ldaps" ] || continue
        : >"$dir/log/slapd.log"
        # -d 0 would keep it in the foreground; daemon mode writes the pid file.
        if sbin slapd -F "$dir/slapd.d" -h "ldap://127.0.0.1:$ldap/ ldaps://127.0.0.1:$ldaps/" \
            >>"$dir/log/slapd.log" 2>&1; then
            local deadline=$((SECONDS + 20))
            until [ -s "$dir/run/slapd.pid" ] && port_open "$ldap" && port_open "$ldaps"; do
                if [ "$SECONDS" -ge "$deadline" ] ||
                    { [ -s "$dir/run/slapd.pid" ] && ! alive "$(cat "$dir/run/slapd.pid")"; }; then
                    break
                fi
                sleep 0.05
            done
            if [ -s "$dir/run/slapd.pid" ] && alive "$(cat "$dir/run/slapd.pid")" &&
                port_open "$ldap" && port_open "$ldaps"; then
                break
            fi
        fi
        # Another instance took a port between our check and the bind: try others.
        if grep -qs "Address already in use" "$dir/log/slapd.log"; then
            echo "slapd.sh: port $ldap or $ldaps taken, retrying" >&2
            stop_server "$dir"
            continue
        fi
        echo "slapd.sh: slapd failed to start in $dir:" >&2
        tail -n 20 "$dir/log/slapd.log" >&2 2>/dev/null || true
        stop_server "$dir"
        exit 1
    done

    echo "ldap=$ldap ldaps=$ldaps" >"$dir/ports"
    if [ -n "$parent" ]; then
        start_watchdog "$dir" "$parent" "$remove"
    fi
    echo "ldap=$ldap ldaps=$ldaps"
}

cmd_stop() {
    [ $# -eq 1 ] || usage
    [ -d "$1" ] || return 0
    stop_server "$(readlink -f "$1")"
}

# Adds entries to the running server (ldapadd as the root DN, read from root_password).
cmd_add_ldif() {
    [ $# -eq 2 ] || usage
    local dir=$1 file=$2 ldap
    [ -s "$dir/ports" ] || { echo "slapd.sh: no running instance in $dir (run start first)" >&2; exit 1; }
    if ! command -v ldapadd >/dev/null 2>&1; then
        echo "slapd.sh: ldapadd not found; install ldap-utils with scripts/install-test-deps.sh (as root)" >&2
        exit 3
    fi
    ldap=$(sed -n 's/.*ldap=\([0-9]*\).*/\1/p' "$dir/ports")
    ldapadd -x -H "ldap://127.0.0.1:$ldap" -D "$ROOT_DN" -y "$dir/root_password" -f "$file" >/dev/null
}

[ $# -ge 1 ] || usage
command=$1
shift
case $command in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
add-ldif) cmd_add_ldif "$@" ;;
_watchdog) cmd_watchdog "$@" ;;
*) usage ;;
esac
