#!/usr/bin/env bash
# The deployment files in deploy/, checked by the tools that read them:
# systemd-analyze and systemd-sysusers, promtool, yamllint, and Python's
# YAML and JSON parsers (tests/deploy/check_files.py). Run by meson:
#   check.sh static    the unit, the alert rules and Prometheus config,
#                      YAML lint, the dashboard, metric names, the
#                      Kubernetes manifests, compose and the Dockerfile
#   check.sh install   `make install` into temporary DESTDIRs
#   check.sh configs   `elava config check` on the example configurations
# Environment: ELAVA_BIN (the built binary), ELAVA_UNIT (the unit meson
# generated), SOURCE_ROOT. Exits 0 if every check passed, 1 otherwise; a
# missing tool is a failure (scripts/deps.sh installs them all).
set -uo pipefail

src=${SOURCE_ROOT:?SOURCE_ROOT is not set}
bin=${ELAVA_BIN:?ELAVA_BIN is not set}
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
ok() { echo "ok: $*"; }
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || fail "$t is not installed (bash scripts/deps.sh)"
	done
}

# A Python with PyYAML (Debian's python3-yaml, which yamllint uses).
python=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import yaml' 2>/dev/null; then python=$p; break; fi
done

# ------------------------------------------------------------------ systemd

# Verify a unit file: systemd-analyze exits 0 on many real mistakes (an
# unknown key, a bad value, an unknown system call group are only logged),
# so any message fails too. On Debian 12 a correct unit verifies silently.
verify_unit() { # file
	local out rc
	out=$(systemd-analyze verify --man=no "$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		printf '%s\n' "$out" | sed 's/^/  /' >&2
		return 1
	fi
}

check_systemd() {
	local unit=${ELAVA_UNIT:?ELAVA_UNIT is not set} d=$tmp/unit
	[ -f "$unit" ] || { fail "no generated unit at $unit"; return; }
	grep -n '@[a-z]*@' "$unit" && fail "the generated unit has unfilled @placeholders@"
	# verify needs ExecStart's binary: a copy that runs the build's
	mkdir -p "$d/bad"
	sed -E "s|^ExecStart=[^ ]*/elava |ExecStart=$bin |" "$unit" >"$d/elava.service"
	grep -q "^ExecStart=$bin serve --config /etc/elava/elava.yaml\$" "$d/elava.service" ||
		fail "ExecStart of the unit is not '<bindir>/elava serve --config /etc/elava/elava.yaml'"
	if verify_unit "$d/elava.service"; then
		ok "systemd-analyze verify elava.service"
	else
		fail "systemd-analyze verify elava.service"
	fi
	# The check above must catch a mistake verify only logs.
	sed 's/^Type=notify$/Type=notfy/' "$d/elava.service" >"$d/bad/elava.service"
	if verify_unit "$d/bad/elava.service" 2>/dev/null; then
		fail "a unit with Type=notfy passed verify_unit"
	fi
	# Hardening: the exposure score (0 best, 10 worst) must stay at 1.3
	# or below (it is 1.2); --threshold is in tenths.
	local sec
	if sec=$(systemd-analyze security --offline=true --threshold=13 \
		"$d/elava.service" 2>&1); then
		ok "systemd-analyze security: ${sec##*Overall exposure level for }"
	else
		printf '%s\n' "$sec" | grep -E '✗|Overall' | sed 's/^/  /' >&2
		fail "systemd-analyze security: exposure above 1.3"
	fi
	# What the daemon's contract needs of its unit.
	local want
	# shellcheck disable=SC2016 # $MAINPID is literal
	for want in '^Type=notify$' '^NotifyAccess=main$' '^WatchdogSec=' \
		'^ExecReload=/bin/kill -HUP \$MAINPID$' '^Restart=on-failure$' \
		'^User=elava$' '^StateDirectory=elava$' '^ConfigurationDirectory=elava$' \
		'^Environment=ELAVA_STORAGE_PATH=%S/elava$' \
		'^EnvironmentFile=-/etc/elava/elava.env$' '^UMask=0077$'; do
		grep -Eq "$want" "$unit" || fail "the unit lacks $want"
	done
	# TimeoutStopSec above daemon.graceful_shutdown_timeout (30s)
	local stop
	stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$unit")
	if [ -z "$stop" ] || [ "$stop" -le 30 ]; then
		fail "TimeoutStopSec (${stop:-unset}) is not above 30s"
	fi
	# The sysusers.d entry creates the user the unit names.
	local su
	mkdir -p "$tmp/sysroot/etc"
	if su=$(systemd-sysusers --dry-run --root="$tmp/sysroot" \
		"$src/deploy/systemd/elava.sysusers" 2>&1) &&
		grep -q "Creating user 'elava'" <<<"$su"; then
		ok "systemd-sysusers --dry-run elava.sysusers"
	else
		printf '%s\n' "$su" | sed 's/^/  /' >&2
		fail "systemd-sysusers --dry-run elava.sysusers"
	fi
}

# --------------------------------------------------------------- prometheus

check_prometheus() {
	local p=$src/deploy/prometheus out
	if out=$(promtool check rules "$p/elava-alerts.yml" 2>&1); then
		ok "promtool check rules: $(grep -o '[0-9]* rules found' <<<"$out")"
	else
		printf '%s\n' "$out" | sed 's/^/  /' >&2
		fail "promtool check rules elava-alerts.yml"
	fi
	# rule_files are relative to the config file: the check loads them too
	if out=$(promtool check config "$p/prometheus.yml" 2>&1) &&
		grep -q '1 rule files found' <<<"$out"; then
		ok "promtool check config prometheus.yml"
	else
		printf '%s\n' "$out" | sed 's/^/  /' >&2
		fail "promtool check config prometheus.yml (and its rule_files)"
	fi
	if out=$(promtool test rules "$src/tests/deploy/alerts_test.yml" 2>&1); then
		ok "promtool test rules alerts_test.yml"
	else
		printf '%s\n' "$out" | sed 's/^/  /' >&2
		fail "promtool test rules alerts_test.yml"
	fi
}

# --------------------------------------------------------------- YAML, JSON

check_yaml_json() {
	local files out n
	mapfile -t files < <(find "$src/deploy" "$src/tests/deploy" -type f \
		\( -name '*.yml' -o -name '*.yaml' \) | sort)
	n=${#files[@]}
	[ "$n" -ge 12 ] || fail "only $n YAML files found under deploy/"
	if out=$(yamllint --strict -f parsable -c "$src/tests/deploy/yamllint.yml" \
		"${files[@]}" 2>&1); then
		ok "yamllint --strict: $n files"
	else
		printf '%s\n' "$out" | sed "s|^$src/|  |" >&2
		fail "yamllint"
	fi
	[ -n "$python" ] || { fail "no python3 with PyYAML (python3-yaml)"; return; }
	if "$python" -c 'import json, sys; json.load(open(sys.argv[1]))' \
		"$src/deploy/grafana/elava-dashboard.json"; then
		ok "elava-dashboard.json parses"
	else
		fail "elava-dashboard.json is not JSON"
	fi
	local what
	for what in dashboard metrics k8s compose; do
		if "$python" "$src/tests/deploy/check_files.py" "$src" "$what"; then
			ok "check_files.py $what"
		else
			fail "check_files.py $what"
		fi
	done
	# Optional: kubectl's kustomize renders the kustomization offline.
	if command -v kubectl >/dev/null; then
		if out=$(kubectl kustomize "$src/deploy/kubernetes" 2>&1); then
			ok "kubectl kustomize: $(grep -c '^kind:' <<<"$out") objects"
		else
			printf '%s\n' "$out" | sed 's/^/  /' >&2
			fail "kubectl kustomize deploy/kubernetes"
		fi
	else
		echo "note: kubectl not installed; kustomize rendering not checked"
	fi
	# The environment file example holds no live setting, only comments.
	if grep -Ev '^[[:space:]]*(#|$)' "$src/deploy/systemd/elava.env.example"; then
		fail "elava.env.example sets a variable (keep every line a comment)"
	fi
}

# --------------------------------------------------------------- Dockerfile

# The Debian package that owns a library file: dpkg knows the path the
# package shipped, /lib or /usr/lib (merged /usr), the link or its target.
owner() { # file
	local f p
	for f in "$1" "$(readlink -f "$1")"; do
		for p in "$f" "${f#/usr}" "/usr$f"; do
			dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1 | grep . && return
		done
	done
}

check_dockerfile() {
	local df=$src/deploy/docker/Dockerfile before=$failed
	local froms build runtime
	froms=$(grep -c '^FROM ' "$df")
	[ "$froms" -eq 2 ] || fail "Dockerfile: $froms stages, expected 2"
	grep -Eq '^FROM debian:bookworm(-slim)? AS build$' "$df" ||
		fail "Dockerfile: the first stage is not 'FROM debian:bookworm-slim AS build'"
	# split the stages at the second FROM
	build=$(awk '/^FROM /{n++} n==1' "$df")
	runtime=$(awk '/^FROM /{n++} n==2' "$df")
	grep -Eq '^FROM debian:bookworm(-slim)?$' <<<"$runtime" ||
		fail "Dockerfile: the runtime stage is not on debian:bookworm(-slim)"
	# the build stage: every -dev package of scripts/deps.sh the library
	# needs (not cmocka: tests are off; not clang's: no fuzz targets)
	local p
	# shellcheck disable=SC2013 # one package name a word
	for p in $(grep -o '[a-z0-9.+-]*-dev\b' "$src/scripts/deps.sh" |
		grep -Ev '^(libcmocka-dev|libclang-rt-.*)$' | sort -u); do
		grep -Eq "(^|[[:space:]])$p([[:space:]]|\$)" <<<"$build" ||
			fail "Dockerfile: the build stage does not install $p (scripts/deps.sh)"
	done
	grep -q -- '-Dtests=false' <<<"$build" || fail "Dockerfile: tests are not off"
	grep -q "option('tests'" "$src/meson_options.txt" ||
		fail "meson_options.txt has no 'tests' option for -Dtests=false"
	grep -Eq -- '--buildtype=release' <<<"$build" || fail "Dockerfile: not a release build"
	if grep -Eq '(gcc|meson|ninja-build|-dev)\b' <<<"$(grep -v '^#' <<<"$runtime")"; then
		fail "Dockerfile: the runtime stage installs build tools"
	fi
	grep -q '^COPY --from=build ' <<<"$runtime" ||
		fail "Dockerfile: the runtime stage does not copy from the build stage"
	# the runtime user: numeric, not root, created in the image
	local uid
	uid=$(sed -n 's/^USER \([0-9]*\)\(:[0-9]*\)\?$/\1/p' <<<"$runtime")
	if [ -z "$uid" ] || [ "$uid" -eq 0 ]; then
		fail "Dockerfile: no numeric non-root USER in the runtime stage"
	elif ! grep -q -- "--uid $uid " <<<"$runtime"; then
		fail "Dockerfile: USER $uid is not created with useradd --uid"
	fi
	[ "$(grep '^USER ' <<<"$runtime" | tail -1)" = "$(grep '^USER ' "$df" | tail -1)" ] ||
		fail "Dockerfile: USER is not the last user"
	grep -q '^EXPOSE 2112$' <<<"$runtime" || fail "Dockerfile: no EXPOSE 2112"
	grep -q '^ENTRYPOINT \["elava"\]$' <<<"$runtime" || fail 'Dockerfile: ENTRYPOINT is not ["elava"]'
	grep -q '^CMD \["serve"\]$' <<<"$runtime" || fail 'Dockerfile: CMD is not ["serve"]'
	grep -q '^ENV ELAVA_STORAGE_PATH=/var/lib/elava$' <<<"$runtime" ||
		fail "Dockerfile: ELAVA_STORAGE_PATH is not /var/lib/elava"
	# the runtime stage installs a package for every library the binary
	# links (NEEDED), found with dpkg on this Debian; libc6 and libgcc-s1
	# are in every Debian image; sanitizer runtimes are the test build's
	local lib file pkg n=0
	for lib in $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		case $lib in libasan* | libubsan* | liblsan* | libtsan*) continue ;; esac
		file=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|x86_64/ {print $NF; exit}')
		[ -n "$file" ] || file=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
		pkg=$(owner "$file")
		[ -n "$pkg" ] || { fail "Dockerfile check: no package owns $lib"; continue; }
		case $pkg in libc6 | libgcc-s1) continue ;; esac
		n=$((n + 1))
		grep -Eq "(^|[[:space:]])$pkg([[:space:]]|\$)" <<<"$runtime" ||
			fail "Dockerfile: the runtime stage lacks $pkg (for $lib)"
	done
	[ $n -ge 5 ] || fail "Dockerfile check: only $n linked libraries found in $bin"
	grep -q 'ca-certificates' <<<"$runtime" || fail "Dockerfile: no ca-certificates for HTTPS"
	[ $failed -eq "$before" ] && ok "Dockerfile: two stages, user $uid, $n runtime libraries packaged"
}

# ------------------------------------------------------------------ install

check_install() {
	need make meson ninja
	local d=$tmp/dest b=$tmp/build out
	# the Makefile: release build, PREFIX, DESTDIR
	if ! out=$(DESTDIR=$d make -C "$src" install PREFIX=/usr BUILDDIR="$b" 2>&1); then
		printf '%s\n' "$out" | tail -30 | sed 's/^/  /' >&2
		fail "DESTDIR=$d make install PREFIX=/usr"
		return
	fi
	local f
	for f in usr/bin/elava usr/lib/systemd/system/elava.service \
		usr/lib/sysusers.d/elava.conf \
		usr/share/doc/elava/elava.yaml usr/share/doc/elava/elava.env.example \
		usr/share/doc/elava/elava-alerts.yml \
		usr/share/doc/elava/elava-dashboard.json \
		usr/share/doc/elava/deployment.md; do
		[ -f "$d/$f" ] || fail "make install did not install /$f"
	done
	if ! "$d/usr/bin/elava" version | grep -q '^elava '; then
		fail "the installed elava does not run"
	fi
	local u=$d/usr/lib/systemd/system/elava.service
	grep -q '^ExecStart=/usr/bin/elava serve ' "$u" ||
		fail "the installed unit's ExecStart is not /usr/bin/elava"
	grep -q '^Documentation=file:/usr/share/doc/elava/deployment.md$' "$u" ||
		fail "the installed unit's Documentation is not the installed doc"
	cmp -s "$src/deploy/systemd/elava.sysusers" "$d/usr/lib/sysusers.d/elava.conf" ||
		fail "the installed sysusers.d entry differs from deploy/systemd/elava.sysusers"
	# the installed unit verifies in the installed tree (--root: ExecStart
	# is looked up there), given the targets and /bin/kill it refers to
	local r=$tmp/root
	cp -a "$d" "$r"
	mkdir -p "$r/usr/lib/systemd/system"
	cp /usr/lib/systemd/system/*.target "$r/usr/lib/systemd/system/"
	cp "$(readlink -f /bin/kill)" "$r/usr/bin/kill"
	ln -s usr/bin "$r/bin"
	if verify_unit --root="$r" /usr/lib/systemd/system/elava.service; then
		ok "make install PREFIX=/usr: binary, unit (verifies), sysusers.d, examples"
	else
		fail "systemd-analyze verify of the installed unit"
	fi
	# again with the default prefix and a unit directory from MESONFLAGS:
	# the same build directory is reconfigured
	local d2=$tmp/dest2
	if ! out=$(make -C "$src" install DESTDIR="$d2" BUILDDIR="$b" \
		MESONFLAGS=-Dsystemdunitdir=/lib/systemd/system 2>&1); then
		printf '%s\n' "$out" | tail -30 | sed 's/^/  /' >&2
		fail "make install DESTDIR=$d2 MESONFLAGS=-Dsystemdunitdir=/lib/systemd/system"
		return
	fi
	if [ -x "$d2/usr/local/bin/elava" ] &&
		grep -q '^ExecStart=/usr/local/bin/elava serve ' "$d2/lib/systemd/system/elava.service" &&
		[ -f "$d2/usr/local/lib/sysusers.d/elava.conf" ] &&
		[ -f "$d2/usr/local/share/doc/elava/elava.yaml" ]; then
		ok "make install (default PREFIX /usr/local, -Dsystemdunitdir)"
	else
		(cd "$d2" && find . -type f | sed 's/^/  /') >&2
		fail "make install with the default prefix and -Dsystemdunitdir"
	fi
}

# The Dockerfile's build stage cannot be built here (no Docker engine), but
# its meson commands can: run them on a copy of the build context (filtered
# by Dockerfile.dockerignore's patterns, as tar reads them) with /build and
# /out moved into the temporary directory.
check_docker_build() {
	local df=$src/deploy/docker/Dockerfile ctx=$tmp/ctx cmd out
	local excludes=() p
	while read -r p; do
		p=${p%%#*}
		p=${p%/}
		p=${p#\*\*/}
		[ -n "$p" ] && excludes+=("--exclude=$p")
	done <"$src/deploy/docker/Dockerfile.dockerignore"
	mkdir -p "$ctx"
	tar -C "$src" "${excludes[@]}" -cf - . | tar -C "$ctx" -xf - ||
		{ fail "cannot copy the build context"; return; }
	if [ -e "$ctx/.git" ] || compgen -G "$ctx/build*" >/dev/null; then
		fail "Dockerfile.dockerignore lets .git or build trees into the context"
	fi
	cmd=$(awk '/^RUN meson setup /{f=1} f{print} f && !/\\$/{exit}' "$df")
	[ -n "$cmd" ] || { fail "Dockerfile: no 'RUN meson setup' in the build stage"; return; }
	cmd=$(sed -e 's/^RUN //' -e 's/\\$//' <<<"$cmd" | tr '\n' ' ')
	cmd=${cmd//\/build/$tmp/dbuild}
	cmd=${cmd//\/out/$tmp/dout}
	if out=$(cd "$ctx" && sh -ec "$cmd" 2>&1) &&
		[ -x "$tmp/dout/usr/local/bin/elava" ]; then
		ok "the Dockerfile's build commands: $(tail -1 <<<"$out")"
	else
		printf '%s\n' "$out" | tail -20 | sed 's/^/  /' >&2
		fail "the Dockerfile's build commands (run here: $cmd)"
	fi
}

# ------------------------------------------------------------------ configs

check_configs() {
	[ -n "$python" ] || { fail "no python3 with PyYAML (python3-yaml)"; return; }
	"$python" "$src/tests/deploy/check_files.py" "$src" configmap-config \
		"$tmp/configmap.yaml" || fail "cannot extract the ConfigMap's elava.yaml"
	local f out name
	for f in "$src/deploy/systemd/elava.yaml" "$tmp/configmap.yaml"; do
		name=${f#"$src"/}
		[ "$f" = "$tmp/configmap.yaml" ] && name="the elava.yaml of deploy/kubernetes/configmap.yaml"
		if out=$(env -u ELAVA_STORAGE_PATH "$bin" config check "$f" 2>&1); then
			ok "elava config check $name"
		else
			printf '%s\n' "$out" | sed 's/^/  /' >&2
			fail "elava config check $name"
		fi
	done
	# and it is a real check: a misspelt key is refused
	printf 'daemon:\n  metric_port: 2112\n' >"$tmp/bad.yaml"
	if "$bin" config check "$tmp/bad.yaml" >/dev/null 2>&1; then
		fail "elava config check accepted an unknown key"
	fi
}

sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(static)
for s in "${sections[@]}"; do
	case $s in
	static)
		need systemd-analyze systemd-sysusers promtool yamllint readelf ldconfig dpkg
		[ -x "$bin" ] || fail "ELAVA_BIN $bin is not an executable"
		check_systemd
		check_prometheus
		check_yaml_json
		check_dockerfile
		;;
	install)
		check_install
		check_docker_build
		;;
	configs) check_configs ;;
	*) fail "unknown section $s" ;;
	esac
done

if [ $failed -eq 0 ]; then
	echo "deploy checks (${sections[*]}): all passed"
	exit 0
fi
echo "deploy checks (${sections[*]}): $failed failed" >&2
exit 1
