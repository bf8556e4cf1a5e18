#!/usr/bin/env bash
# IMAP benchmark: carbonio-migrate against mbsync (and imapsync) on the same
# data, Dovecot on loopback. It measures and prints; it never asserts.
#
#   scripts/bench-imap.sh [--messages N] [--accounts A] [--latency-ms L] [--big]
#                         [--connections-per-account K] [--mbsync-first] [--keep]
#
#   --messages N     messages per source account (default 5000, about 1.7 GB)
#   --accounts A     source accounts, migrated at once (default 1)
#   --latency-ms L   round-trip latency added by a proxy in front of Dovecot for
#                    every tool (L/2 each way); 20 is the issue's WAN mode
#   --big            8 accounts, each with 3 messages of 20 MB and 20 smaller
#                    ones (up to 500 KB): peak memory with large messages
#   --connections-per-account K   carbonio-migrate's [run] key (default 2,
#                    the tool's own default; 1 is mbsync's connection count)
#   --mbsync-first   run mbsync before carbonio-migrate (default: after)
#   --keep           leave the work directory (Dovecot data, configs, logs)
#
# Environment: IMAPSYNC=/path/to/imapsync adds imapsync; FAULT_PROXY=/path/to/
# fault-proxy uses that build of the latency proxy.
#
# Steps: a private Dovecot (scripts/dovecot.sh) in a temporary directory; the
# source accounts seeded by writing maildir files (benches/imap/seed_maildir.py,
# deterministic) and indexed by one read-only pass (benches/imap/mailbox_census.py);
# then each tool copies every source account into its own fresh destination
# accounts on the same server: a first pass, then a delta pass with nothing new,
# each under /usr/bin/time for wall time and peak RSS. Destination accounts are
# counted afterwards so a tool that copied less than everything shows it.
# imapsync runs when IMAPSYNC names its script. See docs/benchmarks.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MESSAGES=5000
ACCOUNTS=1
LATENCY_MS=0
BIG=0
CPA=2
KEEP=0
MBSYNC_FIRST=0
SEED=20240501
MASTER=migrator

usage() {
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --messages) MESSAGES=${2:?}; shift 2 ;;
    --accounts) ACCOUNTS=${2:?}; shift 2 ;;
    --latency-ms) LATENCY_MS=${2:?}; shift 2 ;;
    --big) BIG=1; shift ;;
    --connections-per-account) CPA=${2:?}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --mbsync-first) MBSYNC_FIRST=1; shift ;;
    -h | --help) usage ;;
    *) echo "bench-imap.sh: unknown argument $1" >&2; usage ;;
    esac
done
for n in "$MESSAGES" "$ACCOUNTS" "$LATENCY_MS" "$CPA"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "bench-imap.sh: '$n' is not a number" >&2; exit 2; }
done
if [ "$BIG" = 1 ]; then
    ACCOUNTS=8
    MESSAGES=23
fi
[ -x /usr/bin/time ] || { echo "bench-imap.sh: /usr/bin/time (package time) is needed for peak RSS" >&2; exit 3; }
command -v mbsync >/dev/null || { echo "bench-imap.sh: mbsync not found (package isync; scripts/install-test-deps.sh)" >&2; exit 3; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-imap.XXXXXX")
# Dovecot's unprivileged processes must traverse it to reach their files.
chmod 755 "$WORK"
DV=$WORK/dovecot
PROXY_PID=""
cleanup() {
    if [ -n "$PROXY_PID" ]; then
        kill "$PROXY_PID" 2>/dev/null || true
        wait "$PROXY_PID" 2>/dev/null || true
    fi
    "$ROOT/scripts/dovecot.sh" stop "$DV" >/dev/null 2>&1 || true
    if [ "$KEEP" = 1 ]; then
        echo "work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '== %s\n' "$*" >&2; }

# ---------------------------------------------------------------- the machine
log "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo)"
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
log "dovecot $(dovecot --version | cut -d' ' -f1), $(mbsync --version)"

log "building carbonio-migrate (release)"
(cd "$ROOT" && cargo build --release --quiet -p carbonio-migrate-cli)
CLI=$ROOT/target/release/carbonio-migrate

# ---------------------------------------------------------------- the server
log "starting Dovecot in $DV"
"$ROOT/scripts/dovecot.sh" start "$DV" --parent-pid $$ >/dev/null
IMAP_PORT=$(sed -n 's/^imap=\([0-9]*\).*/\1/p' "$DV/ports")
PASSWORD_FILE=$DV/master_password
export BENCH_MASTER_PASSWORD
BENCH_MASTER_PASSWORD=$(cat "$PASSWORD_FILE")

user() { printf '%s-%d@bench.test' "$1" "$2"; }
for i in $(seq 1 "$ACCOUNTS"); do
    for role in src cm mb is; do
        "$ROOT/scripts/dovecot.sh" add-user "$DV" "$(user "$role" "$i")" "unused-$RANDOM$RANDOM"
    done
done

# ---------------------------------------------------------------- the data
log "seeding $ACCOUNTS account(s) x $MESSAGES messages (maildir files)"
seed_start=$(date +%s.%N)
for i in $(seq 1 "$ACCOUNTS"); do
    maildir=$DV/mail/$(user src "$i")
    if [ "$BIG" = 1 ]; then
        python3 "$ROOT/benches/imap/seed_maildir.py" --maildir "$maildir" --messages "$MESSAGES" \
            --seed $((SEED + i)) --mix big --big-count 3 --big-size 20000000 >/dev/null
    else
        python3 "$ROOT/benches/imap/seed_maildir.py" --maildir "$maildir" --messages "$MESSAGES" \
            --seed $((SEED + i)) >/dev/null
    fi
    # As root, mail files belong to Dovecot's mail user (see dovecot.sh).
    chown -R --reference="$DV/mail" "$maildir"
done
census() {
    python3 "$ROOT/benches/imap/mailbox_census.py" --port "$IMAP_PORT" --master "$MASTER" \
        --password-file "$PASSWORD_FILE" "$@"
}
# Sum of "messages=" and "bytes=" over census lines.
sum_field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" | awk '{s += $1} END {print s + 0}'; }
sources=()
for i in $(seq 1 "$ACCOUNTS"); do sources+=("$(user src "$i")"); done
# The first read-only pass makes Dovecot build its indexes, so no tool pays for it.
census "${sources[@]}" >"$WORK/census-src"
TOTAL_MSGS=$(sum_field messages <"$WORK/census-src")
TOTAL_BYTES=$(sum_field bytes <"$WORK/census-src")
seed_end=$(date +%s.%N)
log "source: $TOTAL_MSGS messages, $(awk -v b="$TOTAL_BYTES" 'BEGIN {printf "%.1f MB", b/1e6}') (RFC822.SIZE), seeded and indexed in $(awk -v a="$seed_start" -v b="$seed_end" 'BEGIN {printf "%.1f s", b-a}')"

# ---------------------------------------------------------------- latency
TOOL_PORT=$IMAP_PORT
if [ "$LATENCY_MS" -gt 0 ]; then
    one_way=$((LATENCY_MS / 2))
    # The testkit's FaultProxy (benches/fault_proxy_main.rs): $FAULT_PROXY, or
    # built here when the benches crate registers it; else the python fallback.
    proxy_bin=${FAULT_PROXY:-$ROOT/target/release/fault-proxy}
    if [ -n "${FAULT_PROXY:-}" ] || (cd "$ROOT" && cargo build --release --quiet -p carbonio-migrate-benches \
        --bin fault-proxy) 2>/dev/null && [ -x "$proxy_bin" ]; then
        proxy_name="fault-proxy (testkit FaultProxy)"
        "$proxy_bin" --target "127.0.0.1:$IMAP_PORT" --latency-ms "$one_way" >"$WORK/proxy.port" 2>"$WORK/proxy.log" &
    else
        proxy_name="scripts/latency_proxy.py"
        python3 "$ROOT/scripts/latency_proxy.py" --target-port "$IMAP_PORT" --latency-ms "$one_way" >"$WORK/proxy.port" 2>"$WORK/proxy.log" &
    fi
    PROXY_PID=$!
    for _ in $(seq 1 100); do
        grep -q '^port=' "$WORK/proxy.port" 2>/dev/null && break
        sleep 0.1
    done
    TOOL_PORT=$(sed -n 's/^port=//p' "$WORK/proxy.port")
    [ -n "$TOOL_PORT" ] || { echo "bench-imap.sh: latency proxy did not start: $(cat "$WORK/proxy.log")" >&2; exit 1; }
    log "latency: ${one_way} ms each way (${LATENCY_MS} ms RTT) by $proxy_name on port $TOOL_PORT"
fi

# ---------------------------------------------------------------- measuring
# measure NAME CMD...: runs CMD under /usr/bin/time; leaves "wall_s rss_kb exit"
# in $WORK/NAME.time and the output in $WORK/NAME.log.
# CPU seconds Dovecot's processes used so far: the master's reaped children
# (every imap and auth process is one), so a tool's share is a difference.
server_cpu() {
    local ticks
    ticks=$(sed 's/^.*) //' "/proc/$(cat "$DV/run/master.pid")/stat" | awk '{print $14 + $15}')
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}'
}
# Writes "<wall s> <peak KB> <exit code> <tool CPU s> <Dovecot CPU s>" to $name.time.
measure() {
    local name=$1
    shift
    local code=0 before
    before=$(server_cpu)
    /usr/bin/time -f "%e %M %U %S" -o "$WORK/$name.rusage" "$@" >"$WORK/$name.log" 2>&1 || code=$?
    sleep 0.3 # let Dovecot reap the logged-out imap processes
    tail -n 1 "$WORK/$name.rusage" | awk -v c="$code" -v b="$before" -v a="$(server_cpu)" \
        '{printf "%s %s %s %.2f %.2f\n", $1, $2, c, $3 + $4, a - b}' >"$WORK/$name.time"
    if [ "$code" != 0 ]; then
        log "$name exited with $code; last lines of its output:"
        tail -n 5 "$WORK/$name.log" >&2
    fi
}
# measure_parallel NAME TOOL: runs $WORK/TOOL-<i>.sh for every account, all at
# once; wall time of the whole, peak RSS summed (all run together).
measure_parallel() {
    local name=$1 tool=$2 i pids=() start end code=0 before
    before=$(server_cpu)
    start=$(date +%s.%N)
    for i in $(seq 1 "$ACCOUNTS"); do
        /usr/bin/time -f "%e %M %U %S" -o "$WORK/$name.$i.rusage" bash "$WORK/$tool-$i.sh" >"$WORK/$name.$i.log" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do wait "${pids[$i]}" || code=$?; done
    end=$(date +%s.%N)
    sleep 0.3
    local rss cpu
    rss=$(for i in $(seq 1 "$ACCOUNTS"); do tail -n 1 "$WORK/$name.$i.rusage"; done | awk '{s += $2} END {print s}')
    cpu=$(for i in $(seq 1 "$ACCOUNTS"); do tail -n 1 "$WORK/$name.$i.rusage"; done | awk '{s += $3 + $4} END {printf "%.2f", s}')
    echo "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b-a}') $rss $code $cpu $(awk -v a="$(server_cpu)" -v b="$before" 'BEGIN {printf "%.2f", a - b}')" >"$WORK/$name.time"
    [ "$code" = 0 ] || { log "$name: a process exited with $code"; tail -n 5 "$WORK/$name.1.log" >&2; }
}
copied() {
    local role=$1 users=()
    for i in $(seq 1 "$ACCOUNTS"); do users+=("$(user "$role" "$i")"); done
    census "${users[@]}" >"$WORK/census-$role" || true
    echo "$(sum_field messages <"$WORK/census-$role") $(sum_field bytes <"$WORK/census-$role")"
}

# ---------------------------------------------------------------- carbonio-migrate
run_carbonio_migrate() {
    CM=$WORK/carbonio-migrate
    mkdir -p "$CM/accounts"
    {
        echo "email,source_user"
        for i in $(seq 1 "$ACCOUNTS"); do echo "$(user cm "$i"),$(user src "$i")"; done
    } >"$CM/accounts/accounts.csv"
    imap_section() {
        printf 'type = "imap"\nhost = "127.0.0.1"\nport = %s\ntls = "none"\nauth = "impersonate"\nadmin_user = "%s"\npassword_env = "BENCH_MASTER_PASSWORD"\n' \
            "$TOOL_PORT" "$MASTER"
    }
    {
        printf 'procedure = "mail-only"\nstate_dir = "state"\n\n[provisioning]\ntype = "export-dir"\npath = "accounts"\n\n'
        printf '[source]\n'; imap_section
        printf '\n[destination]\n'; imap_section
        printf '\n[run]\nconcurrency = %d\nconnections_per_account = %d\n' "$((ACCOUNTS > 8 ? ACCOUNTS : 8))" "$CPA"
    } >"$CM/migration.toml"
    log "carbonio-migrate: first pass"
    measure cm-first "$CLI" --config "$CM/migration.toml" run
    log "carbonio-migrate: delta pass"
    measure cm-delta "$CLI" --config "$CM/migration.toml" run
    read -r CM_COPIED CM_COPIED_BYTES < <(copied cm)

}

# ---------------------------------------------------------------- mbsync
run_mbsync() {
    MB=$WORK/mbsync
    mkdir -p "$MB"
    for i in $(seq 1 "$ACCOUNTS"); do
        mkdir -p "$MB/state-$i"
        cat >"$MB/mbsyncrc-$i" <<EOF
IMAPAccount far
Host 127.0.0.1
Port $TOOL_PORT
User $(user src "$i")*$MASTER
PassCmd "cat $PASSWORD_FILE"
SSLType None
AuthMechs LOGIN

IMAPStore far
Account far

IMAPAccount near
Host 127.0.0.1
Port $TOOL_PORT
User $(user mb "$i")*$MASTER
PassCmd "cat $PASSWORD_FILE"
SSLType None
AuthMechs LOGIN

IMAPStore near
Account near

Channel bench
Far :far:
Near :near:
Patterns *
Sync Pull
Create Near
Expunge None
CopyArrivalDate yes
SyncState $MB/state-$i/
EOF
        printf 'exec mbsync -q -c %q bench\n' "$MB/mbsyncrc-$i" >"$WORK/mbsync-$i.sh"
    done
    log "mbsync: first pass"
    measure_parallel mb-first mbsync
    log "mbsync: delta pass"
    measure_parallel mb-delta mbsync
    read -r MB_COPIED MB_COPIED_BYTES < <(copied mb)

}

# Whoever goes second finds the first one's writes still being flushed to
# disk: --mbsync-first swaps the order, so both orders can be compared.
if [ "$MBSYNC_FIRST" = 1 ]; then
    run_mbsync
    run_carbonio_migrate
else
    run_carbonio_migrate
    run_mbsync
fi

# ---------------------------------------------------------------- imapsync
IS_RAN=0
if [ -n "${IMAPSYNC:-}" ]; then
    IS=$WORK/imapsync
    mkdir -p "$IS"
    for i in $(seq 1 "$ACCOUNTS"); do
        printf 'cd %q && exec %q %s\n' "$IS" "$IMAPSYNC" "$(printf '%q ' \
            --host1 127.0.0.1 --port1 "$TOOL_PORT" --nossl1 --notls1 \
            --user1 "$(user src "$i")" --authuser1 "$MASTER" --authmech1 PLAIN --passfile1 "$PASSWORD_FILE" \
            --host2 127.0.0.1 --port2 "$TOOL_PORT" --nossl2 --notls2 \
            --user2 "$(user is "$i")" --authuser2 "$MASTER" --authmech2 PLAIN --passfile2 "$PASSWORD_FILE" \
            --nolog --noreleasecheck)" >"$WORK/imapsync-$i.sh"
    done
    log "imapsync ($IMAPSYNC): first pass"
    measure_parallel is-first imapsync
    log "imapsync: delta pass"
    measure_parallel is-delta imapsync
    read -r IS_COPIED IS_COPIED_BYTES < <(copied is)
    IS_RAN=1
else
    log "imapsync skipped: set IMAPSYNC=/path/to/imapsync to include it"
fi

# ---------------------------------------------------------------- the table
field() { awk -v n="$2" '{print $n}' "$WORK/$1.time"; }
row() {
    local tool=$1 key=$2 copied=$3 secs rss dsecs
    secs=$(field "$key-first" 1)
    rss=$(field "$key-first" 2)
    dsecs=$(field "$key-delta" 1)
    awk -v t="$tool" -v s="$secs" -v r="$rss" -v d="$dsecs" -v m="$TOTAL_MSGS" -v b="$TOTAL_BYTES" \
        -v c="$copied" -v e1="$(field "$key-first" 3)" -v e2="$(field "$key-delta" 3)" \
        -v u="$(field "$key-first" 4)" -v v="$(field "$key-first" 5)" 'BEGIN {
        note = (c == m) ? "" : sprintf("  (copied %d of %d)", c, m)
        if (e1 != 0 || e2 != 0) note = note sprintf("  (exit %s/%s)", e1, e2)
        printf "%-18s %9.2f %9.1f %8.1f %10.1f %9.2f %8.2f %8.2f%s\n", t, s, m / s, b / 1e6 / s, r / 1024, d, u, v, note
    }'
}
ratio() {
    awk -v a="$(field "$1-first" 1)" -v b="$(field "$2-first" 1)" -v da="$(field "$1-delta" 1)" \
        -v db="$(field "$2-delta" 1)" -v n="$3" 'BEGIN {
        printf "carbonio-migrate vs %-9s first pass: %.2fx its throughput; delta pass: %.2f s vs %.2f s (%.2fx)\n", n, b / a, da, db, db / (da > 0 ? da : 0.01)
    }'
}
{
    echo
    echo "IMAP benchmark: $ACCOUNTS account(s), $TOTAL_MSGS messages, $(awk -v b="$TOTAL_BYTES" 'BEGIN {printf "%.1f MB", b/1e6}'), RTT added ${LATENCY_MS} ms$([ "$BIG" = 1 ] && echo ", big mode (3 x 20 MB per account)")"
    printf "%-18s %9s %9s %8s %10s %9s %8s %8s\n" tool "first s" "msgs/s" "MB/s" "peak MB" "delta s" "tool CPU" "dovecot"
    row carbonio-migrate cm "$CM_COPIED"
    row mbsync mb "$MB_COPIED"
    [ "$IS_RAN" = 1 ] && row imapsync is "$IS_COPIED"
    echo
    ratio cm mb mbsync
    [ "$IS_RAN" = 1 ] && ratio cm is imapsync
    echo "copied (messages, bytes of RFC822.SIZE; source $TOTAL_MSGS, $TOTAL_BYTES): carbonio-migrate $CM_COPIED, $CM_COPIED_BYTES; mbsync $MB_COPIED, $MB_COPIED_BYTES$([ "$IS_RAN" = 1 ] && echo "; imapsync $IS_COPIED, $IS_COPIED_BYTES")"
    [ "$ACCOUNTS" -gt 1 ] && echo "(mbsync and imapsync: one process per account, all at once; peak MB is their sum)"
    echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); other work on the machine skews the figures)"
    echo "(MB = 10^6 bytes of RFC822.SIZE; peak = maximum resident set size; tool CPU and dovecot = CPU seconds of the first pass)"
} | tee "$WORK/result.txt"
