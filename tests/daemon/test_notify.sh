#!/usr/bin/env bash
# sd_notify, as systemd would see it: a Unix datagram socket in
# NOTIFY_SOCKET (here a Python listener) receives READY=1 once the daemon
# serves, a STATUS= line per iteration, WATCHDOG=1 while WATCHDOG_USEC is
# set, RELOADING=1 then READY=1 around a SIGHUP, and STOPPING=1 on SIGTERM.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../provider/moto.sh"

ELAVA_BIN=${ELAVA_BIN:?ELAVA_BIN must point at the elava binary}
tmp=$(mktemp -d)
daemon=
listener=
cleanup() {
	[ -n "$daemon" ] && kill -9 "$daemon" 2>/dev/null
	[ -n "$listener" ] && kill "$listener" 2>/dev/null
	moto_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
moto_isolate "$tmp"
moto_start || { echo "skip: cannot start the AWS emulator"; exit 77; }
export AWS_ENDPOINT_URL=$MOTO_URL
. "$here/../check.sh"

# Every datagram, one per line ('\n' inside one becomes ' | ').
python3 - "$tmp/notify.sock" "$tmp/notes" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " | ") + "\n")
EOF
listener=$!
for _ in $(seq 100); do [ -S "$tmp/notify.sock" ] && break; sleep 0.1; done
[ -S "$tmp/notify.sock" ] || die "the notify listener did not start"

# noted PATTERN [COUNT]: wait until COUNT datagrams match (default 1).
noted() {
	local want=${2:-1}
	for _ in $(seq 300); do
		[ "$(grep -cE -- "$1" "$tmp/notes" 2>/dev/null)" -ge "$want" ] && return 0
		sleep 0.2
	done
	fail "no ${want}x '$1' from the daemon; got: $(tr '\n' ';' <"$tmp/notes" | head -c 600)"
	return 1
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'daemon:\n  reconciliation_interval: 1s\n' >"$tmp/elava.yaml"
NOTIFY_SOCKET=$tmp/notify.sock WATCHDOG_USEC=1000000 "$ELAVA_BIN" serve \
	--config "$tmp/elava.yaml" --store "$tmp/store" --listen 127.0.0.1 \
	--metrics-port "$port" --region us-east-1 --types ec2_instance \
	>"$tmp/serve.log" 2>&1 &
daemon=$!

noted '^READY=1$'
noted '^STATUS=scan #1: [0-9]+ resources, 0 changes, success$'
# Pinged every half of WATCHDOG_USEC: several by now.
noted '^WATCHDOG=1$' 3
kill -HUP "$daemon"
noted '^RELOADING=1 \| MONOTONIC_USEC=[0-9]+$'
noted '^READY=1$' 2
noted '^STATUS=scan #[0-9]+' 2
kill -TERM "$daemon"
wait "$daemon"
rc=$?
daemon=
[ "$rc" -eq 0 ] || fail "exit $rc after SIGTERM: $(tail -5 "$tmp/serve.log")"
noted '^STOPPING=1$'
# READY comes before the first STATUS: systemd starts its clock at READY.
first_ready=$(grep -nm1 '^READY=1$' "$tmp/notes" | cut -d: -f1)
first_status=$(grep -nm1 '^STATUS=' "$tmp/notes" | cut -d: -f1)
[ "${first_ready:-99}" -lt "${first_status:-0}" ] ||
	fail "READY=1 (line $first_ready) not before the first STATUS (line $first_status)"

if [ "$failures" -eq 0 ]; then echo "ok: sd_notify"; else
	echo "$failures failure(s)"
	exit 1
fi
