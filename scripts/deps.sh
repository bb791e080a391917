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
	# tests: namespaces, backends, clients
	libcmocka-dev iproute2 ethtool util-linux socat jq nginx-light curl wrk
	python3 python3-scapy prometheus tmux
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
