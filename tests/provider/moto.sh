# Sourced by test scripts: start and stop the AWS API emulator (moto) on
# loopback. Uses the moto_server on PATH (the machine image ships one);
# otherwise installs Debian 13's python3-moto, which runs on Debian 12.
# moto_start sets MOTO_URL and MOTO_PID; moto_stop ends it.

moto_install() {
	command -v moto_server >/dev/null && return 0
	[ "$(id -u)" -eq 0 ] || return 1
	echo "moto.sh: installing the AWS emulator (python3-moto from trixie)" >&2
	local list=/etc/apt/sources.list.d/elava-trixie.list
	local mirror
	mirror=$(grep -rhoE 'https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	echo "deb $mirror trixie main" >"$list"
	printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' >/etc/apt/preferences.d/elava-trixie
	apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie python3-moto >/dev/null
	local rc=$?
	rm -f "$list" /etc/apt/preferences.d/elava-trixie
	apt-get update -qq
	[ $rc -eq 0 ] || return 1
	command -v moto_server >/dev/null
}

# awscli, for the tests that compare Elava with what a user would see: the
# one on PATH, else Debian's.
awscli_install() {
	command -v aws >/dev/null && return 0
	[ "$(id -u)" -eq 0 ] || return 1
	echo "moto.sh: installing awscli from Debian" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null
	command -v aws >/dev/null
}

moto_start() {
	moto_install || return 1
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	MOTO_LOG=$(mktemp)
	moto_server -H 127.0.0.1 -p "$port" >"$MOTO_LOG" 2>&1 &
	MOTO_PID=$!
	MOTO_URL="http://127.0.0.1:$port"
	for _ in $(seq 100); do
		curl -sf "$MOTO_URL/moto-api/" >/dev/null 2>&1 && return 0
		kill -0 "$MOTO_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$MOTO_LOG" >&2
	return 1
}

moto_stop() {
	[ -n "${MOTO_PID:-}" ] && kill "$MOTO_PID" 2>/dev/null
	[ -n "${MOTO_LOG:-}" ] && rm -f "$MOTO_LOG"
	MOTO_PID=
}

# A clean environment for a test against moto: nothing from the caller's
# environment steers elava or awscli, dummy credentials, no profile files,
# no instance metadata, HOME inside the test's directory.
moto_isolate() { # DIR
	local v
	for v in $(compgen -e); do
		case $v in
		ELAVA_BIN) ;;
		ELAVA_* | AWS_*) unset "$v" ;;
		esac
	done
	unset COLUMNS NO_COLOR XDG_DATA_HOME
	export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
	export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
	export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER='' AWS_EC2_METADATA_DISABLED=true
	export HOME="$1/home"
	mkdir -p "$HOME"
}
