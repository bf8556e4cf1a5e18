# Shared by scripts/dovecot.sh and scripts/slapd.sh: a private test server
# whose whole state lives in one directory. Sourced, not run. The caller sets
#   SERVER_PID_FILE  the server's pid file, relative to <dir> (run/master.pid)
#   TLS_CA_NAME      the common name of the private CA make_tls creates
# and gets: alive, port_open, pick_port, make_tls, stop_server,
# start_watchdog, announce_ports, cmd_stop and cmd_watchdog (the `_watchdog`
# subcommand).

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
    "$(dirname "$(readlink -f "$0")")/test-ca.sh" "$1" "$TLS_CA_NAME"
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
    [ -s "$dir/$SERVER_PID_FILE" ] || return 0
    pid=$(cat "$dir/$SERVER_PID_FILE")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    rm -f "$dir/$SERVER_PID_FILE"
}

start_watchdog() {
    local dir=$1 parent=$2 remove=$3
    # setsid: out of the test's process group and session, so Ctrl-C or the
    # terminal closing does not kill the watchdog before it has cleaned up.
    # Its descriptors go to the log so callers reading our output see EOF.
    setsid "$(readlink -f "$0")" _watchdog "$dir" "$parent" "$remove" \
        </dev/null >>"$dir/log/watchdog.log" 2>&1 &
    echo $! >"$dir/run/watchdog.pid"
}

# Polls once a second; `stop` kills it when the server is stopped normally.
cmd_watchdog() {
    local dir=$1 parent=$2 remove=$3 server
    server=$(cat "$dir/$SERVER_PID_FILE")
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

# The last step of `start`: the ports line into <dir>/ports and on stdout,
# and the watchdog when a parent PID was given.
announce_ports() {
    local dir=$1 parent=$2 remove=$3 ports=$4
    echo "$ports" >"$dir/ports"
    if [ -n "$parent" ]; then
        start_watchdog "$dir" "$parent" "$remove"
    fi
    echo "$ports"
}

cmd_stop() {
    [ $# -eq 1 ] || usage
    [ -d "$1" ] || return 0
    stop_server "$(readlink -f "$1")"
}
