#!/usr/bin/env bash
# Install the Debian packages xlb needs to build, test and run. Idempotent:
# when everything is present it only checks and exits.
set -euo pipefail

packages=(
	# build
	make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config
	# fuzzers: clang's libFuzzer and sanitizer runtimes
	libclang-rt-dev
	# xlbd: config, control protocol, health checks, neighbour table
	libcyaml-dev libyaml-dev libjson-c-dev libcurl4-openssl-dev libmnl-dev
	libmicrohttpd-dev libncurses-dev
	# xlbd under systemd: Type=notify (sd_notify)
	libsystemd-dev
	# the flow hand-off between LB hosts: HMAC-SHA256
	libssl-dev
	# tests: namespaces, backends, clients
	libcmocka-dev iproute2 ethtool util-linux socat jq nginx-light curl wrk
	python3 python3-scapy prometheus tmux
	# several LB hosts: BGP and BFD on each LB host and on the router
	bird2
	# the L4+L7 site (scripts/site.sh): its certificate; Debian's nginx has
	# TLS, gzip and proxy_cache (Debian 12's nginx-light is it plus one module)
	openssl nginx
	# packaging: man pages (make man), make deb and its checks, xlbctl's
	# completion (tests/pkg)
	scdoc dpkg-dev debhelper lintian bash-completion
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#packages[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet.
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# bird2's maintainer scripts start the system bird where an init system
# lets them. xlb's sites run their own birds (-c CONF -s SOCK -P PIDFILE in
# each namespace) and need none: stop the one the package started, by the
# PID in its pidfile.
if [[ " ${missing[*]} " == *" bird2 "* ]]; then
	systemctl disable --now bird.service >/dev/null 2>&1 || true
	pid=$(cat /run/bird/bird.pid 2>/dev/null || true)
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && echo "deps: stopped the system bird ($pid)"
fi
exit 0
