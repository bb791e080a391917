# Shared by the shell test suites: TAP output, bounded waiting, a site of
# network namespaces (scripts/topo.sh) and an xlbd running in it.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
XLBD=$BUILD/xlbd
XLBCTL=$BUILD/xlbctl
PROBE=$BUILD/probe

tap_n=0
tap_failed=0

ok() { # DESC
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

not_ok() { # DESC [DETAIL...]
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	shift
	local line
	for line in "$@"; do echo "# $line"; done
}

# check DESC CMD...: one test point from a command's exit status.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc" "command: $*" "${out:0:2000}"
	fi
}

# expect_eq DESC GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "got:  $2" "want: $3"
	fi
}

tap_end() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# wait_for SECONDS CMD...: poll CMD every 100 ms until it succeeds; fail
# after SECONDS. The bound keeps a broken daemon from hanging the suite.
wait_for() {
	local limit=$1 end
	shift
	end=$(($(date +%s%N) + limit * 1000000000))
	while [ "$(date +%s%N)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}

# site_up PREFIX [topo options]: namespaces, plus a bpffs for the pins
# outside /sys (ip netns exec remounts /sys, so pins there would not
# outlive the process that made them).
site_up() {
	SITE=$1
	shift
	RUN=/run/xlbt/${SITE%-}
	PIN=$RUN/bpf/xlb
	SOCK=$RUN/xlbd.sock
	STATE=$RUN/state
	bash "$TOP/scripts/topo.sh" up -p "$SITE" "$@"
	mkdir -p "$RUN/bpf"
	mount -t bpf bpf "$RUN/bpf"
}

site_down() {
	[ -n "${SITE:-}" ] || return 0
	xlbd_stop
	ip netns exec "${SITE}lb" "$XLBD" --teardown --bpffs "$PIN" >/dev/null 2>&1 || true
	umount "$RUN/bpf" 2>/dev/null || true
	bash "$TOP/scripts/topo.sh" down -p "$SITE"
}

# xlbd_start CONFIG [options]: start xlbd in the LB namespace and wait
# until that process serves its socket. Sets XLBD_PID, so call it directly,
# never in a subshell. Its log goes to $RUN/xlbd.log.
xlbd_start() {
	local config=$1
	shift
	ip netns exec "${SITE}lb" "$XLBD" -c "$config" --bpffs "$PIN" --socket "$SOCK" \
		--state-dir "$STATE" "$@" >>"$RUN/xlbd.log" 2>&1 &
	XLBD_PID=$!
	echo "$XLBD_PID" >"$RUN/xlbd.pid"
	wait_for 10 xlbd_serving
}

xlbd_serving() {
	kill -0 "$XLBD_PID" 2>/dev/null && "$XLBCTL" -s "$SOCK" status >/dev/null
}

# check_start DESC CONFIG [options]: xlbd_start as a test point.
check_start() {
	local desc=$1
	shift
	if xlbd_start "$@"; then
		ok "$desc"
	else
		not_ok "$desc" "log:" "$(tail -5 "$RUN/xlbd.log")"
	fi
}

xlbd_stop() { # [SIGNAL]
	[ -n "${XLBD_PID:-}" ] || return 0
	kill -0 "$XLBD_PID" 2>/dev/null || { XLBD_PID=; return 0; }
	kill "-${1:-TERM}" "$XLBD_PID" 2>/dev/null || true
	wait "$XLBD_PID" 2>/dev/null || true
	XLBD_PID=
}

ctl() { "$XLBCTL" -s "$SOCK" "$@"; }

# ctl_raw LINE: one request line as given (no xlbctl checks), the reply line printed
ctl_raw() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline(), end="")' "$SOCK" "$1"
}

# untimed: log lines without the time of --log-format plain (the default off journald)
untimed() { sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z //'; }

# Backends as operators see them, without the fields that move on their own.
backend_view() {
	ctl -j backend show "$@" | jq -c '[.backends[] | {vip, address, weight, admin, state}]'
}

# prometheus_start: a Prometheus in $LB on 198.18.0.2:9090 scraping xlbd's
# metrics (198.18.0.2:9100) every second; its PID is in $! afterwards
prometheus_start() {
	cat >"$RUN/prometheus.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: xlb
    static_configs: [ { targets: ["198.18.0.2:9100"] } ]
EOF
	ip netns exec "$LB" prometheus --config.file="$RUN/prometheus.yml" --storage.tsdb.path="$RUN/prom" \
		--web.listen-address=198.18.0.2:9090 >"$RUN/prometheus.log" 2>&1 &
}

# promq QUERY [TIME]: the value of that Prometheus' first result, or empty
promq() {
	ip netns exec "$LB" curl -s -m 5 -G http://198.18.0.2:9090/api/v1/query \
		--data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} |
		jq -r '.data.result[0].value[1] // empty'
}

# http_vip_conf FILE INTERFACES: a config of $V4:80/tcp over the site's
# backends .11 and .12 (nginx, site_up --nginx), with fast http checks
http_vip_conf() {
	cat >"$1" <<CONF
interfaces: [$2]
conntrack: { size: 65536 }
vips:
  - vip: "$V4:80/tcp"
    health: { check: http, path: /healthz, interval: 500ms, timeout: 300ms, rise: 2, fall: 2 }
    backends:
      - { address: 198.18.0.11 }
      - { address: 198.18.0.12 }
CONF
}

# map_ids: every pinned map (not the links) as "name=id", sorted
map_ids() {
	local f
	for f in "$PIN"/*; do
		case ${f##*/} in link_*) continue ;; esac
		echo "${f##*/}=$(bpftool -j map show pinned "$f" | jq .id)"
	done | sort | tr '\n' ' '
}

wrk_errors() { # OUT -> "socket errors, non-2xx, requests"
	local socket non2xx reqs
	socket=$(awk '/Socket errors/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i; print s}' "$1")
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$1")
	reqs=$(awk '/requests in/ {print $1}' "$1")
	echo "${socket:-0} ${non2xx:-0} ${reqs:-0}"
}
