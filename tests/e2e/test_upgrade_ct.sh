#!/usr/bin/env bash
# Hitless upgrade from the old connection table (one LRU map "conntrack",
# the layout up to commit OLD_COMMIT) to flows4/flows6 and probation, under
# keep-alive load on an IPv4 and an IPv6 VIP. The old build is built from
# git history (cached under $BUILD/old-SHA); without that commit (a shallow
# clone) the suite skips.
#
# The flows that matter are those the old table holds on another backend
# than Maglev now picks: be4 joins while the old build runs, so about a
# quarter of the established connections stay on be1..be3 only through the
# old table. The new build's table differs again (be5 joins at the upgrade).
# The control runs the same upgrade with the old table's pin removed: those
# connections must then break, or the zero-error check proves nothing.
# Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

OLD_COMMIT=92804f0
V4=198.18.100.10
V6=2001:db8:100::10
VIPS=("$V4:80/tcp" "[$V6]:80/tcp")
# wrk's connections per family: P(be4 moves none of them) = 0.75^N
CONNS4=64
CONNS6=32
CONNS=$((CONNS4 + CONNS6))
NEW_XLBD=$XLBD
NEW_XLBCTL=$XLBCTL
old_src=

cleanup() {
	XLBD=$NEW_XLBD XLBCTL=$NEW_XLBCTL # the new build tears down the maps of both
	site_down
	[ -z "$old_src" ] || rm -rf "$old_src"
}
trap cleanup EXIT INT TERM

# fatal DESC [DETAIL...]: a step the rest of the suite stands on failed
fatal() {
	not_ok "$@"
	tap_end
	exit 1
}

# old_build: the old xlbd and xlbctl in $OLD_BIN, built once per commit.
# Returns 2 when the commit is not in this repository.
old_build() {
	local sha t0
	sha=$(git -C "$TOP" rev-parse -q --verify "$OLD_COMMIT^{commit}" 2>/dev/null) || return 2
	OLD_BIN=$BUILD/old-$sha
	OLD_HOW="cached in $OLD_BIN"
	[ -x "$OLD_BIN/xlbd" ] && [ -x "$OLD_BIN/xlbctl" ] && return 0
	t0=$(date +%s)
	old_src=$(mktemp -d /tmp/xlbt-old-XXXXXX)
	# without make test's MAKEFLAGS: its BUILD and jobserver are not the old tree's
	if ! { git -C "$TOP" archive "$sha" | tar -x -C "$old_src" &&
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$old_src" -j2 BUILD="$old_src/build" \
			XLB_VERSION="old-$OLD_COMMIT" "$old_src/build/xlbd" "$old_src/build/xlbctl" \
			>"$old_src/make.log" 2>&1; }; then
		OLD_HOW=$(tail -5 "$old_src/make.log")
		return 1
	fi
	# binaries only: a source tree under $BUILD would feed make its .d files
	rm -rf "$OLD_BIN.tmp" "$OLD_BIN"
	mkdir -p "$OLD_BIN.tmp" && cp "$old_src/build/xlbd" "$old_src/build/xlbctl" "$OLD_BIN.tmp/" &&
		mv "$OLD_BIN.tmp" "$OLD_BIN"
	OLD_HOW="built in $(($(date +%s) - t0)) s"
}

# conf FILE N: both VIPs over backends 1..N; be5 has fast checks, so it
# joins the tables within a few hundred ms of the new xlbd's start.
conf() {
	local i
	{
		echo "interfaces: [eth0]"
		echo "conntrack: { size: 65536 }"
		echo "vips:"
		for vip in "${VIPS[@]}"; do
			echo "  - vip: \"$vip\""
			echo "    health: { check: http, path: /healthz, interval: 500ms, timeout: 300ms, rise: 2, fall: 2 }"
			echo "    backends:"
			for i in $(seq 1 "$2"); do
				echo -n "      - { address: $(be_addr "$vip" "$i")"
				[ "$i" = 5 ] && echo -n ", health: { interval: 100ms, timeout: 50ms, rise: 1, fall: 2 }"
				echo " }"
			done
		done
	} >"$1"
}

be_addr() { # VIP N
	case $1 in
	\[*) echo "\"2001:db8::1$2\"" ;;
	*) echo "198.18.0.1$2" ;;
	esac
}

up_count() { ctl -j backend show "$1" | jq '[.backends[] | select(.state == "up")] | length'; }
all_up() { # N: on both VIPs
	[ "$(up_count "${VIPS[0]}")" = "$1" ] && [ "$(up_count "${VIPS[1]}")" = "$1" ]
}
vip_packets() { ctl -j vip show | jq '[.vips[].packets] | add'; }
load_flowing() { [ "$(vip_packets)" -gt "$1" ]; }
stat_of() { ctl -j stats | jq ".global.$1 // 0"; }
map_id() { bpftool -j map show pinned "$PIN/$1" | jq .id; }
entries() { bpftool -j map dump pinned "$PIN/$1" | jq length; }


# the client's established connections on each backend, "be1=N/M ..." (IPv4/IPv6)
conns_per_backend() {
	local i n4 n6
	for i in 1 2 3 4 5; do
		n4=$(ip netns exec "${SITE}be$i" ss -Htn state established '( sport = :80 )' dst 198.18.0.1 | wc -l)
		n6=$(ip netns exec "${SITE}be$i" ss -Htn state established '( sport = :80 )' dst '[2001:db8::1]' | wc -l)
		echo "be$i=$n4/$n6"
	done | tr '\n' ' '
}
conns_total() { conns_per_backend | grep -oE '[0-9]+/[0-9]+' | tr / '\n' | awk '{ s += $1 } END { print s + 0 }'; }
all_connected() { [ "$(conns_total)" -ge "$CONNS" ]; }

# wrk_run SECONDS: keep-alive load on both VIPs, in the background; output in $RUN/wrk4, wrk6
wrk_run() {
	ip netns exec "$CLIENT" wrk -t 1 -c "$CONNS4" -d "$1"s "http://$V4/" >"$RUN/wrk4" 2>&1 &
	WRK4=$!
	ip netns exec "$CLIENT" wrk -t 1 -c "$CONNS6" -d "$1"s "http://[$V6]/" >"$RUN/wrk6" 2>&1 &
	WRK6=$!
	echo "$WRK4" >"$RUN/wrk4.pid"
	echo "$WRK6" >"$RUN/wrk6.pid"
}

# wrk_wait: once both runs end, their sums in sock_err, non2xx and reqs.
# Not in a subshell: it waits for this shell's children.
wrk_wait() {
	local f s n r
	wait "$WRK4" "$WRK6"
	sock_err=0 non2xx=0 reqs=0
	for f in "$RUN/wrk4" "$RUN/wrk6"; do
		read -r s n r < <(wrk_errors "$f")
		sock_err=$((sock_err + s)) non2xx=$((non2xx + n)) reqs=$((reqs + r))
	done
}

# upgrade NAME KEEP_OLD_TABLE: the old build serves be1..be3 under wrk,
# be4 joins, then the new build takes over with be1..be5. Leaves the site up.
upgrade() {
	local name=$1 keep=$2 lines vip
	site_down
	echo "# ---- $name"
	site_up "xlbt-u$$-$keep-" -n 5 --nginx
	ip -n "${SITE}lb" link show eth0 >/dev/null 2>&1 || fatal "$name: the site comes up"
	CLIENT=${SITE}client
	conf "$RUN/old.yaml" 3
	conf "$RUN/new.yaml" 5
	XLBD=$OLD_BIN/xlbd XLBCTL=$OLD_BIN/xlbctl
	xlbd_start "$RUN/old.yaml" || fatal "$name: the old build starts" "$(tail -5 "$RUN/xlbd.log")"
	wait_for 15 all_up 3 || fatal "$name: backends up" "$(ctl backend show)"
	wrk_run 12
	wait_for 5 all_connected || fatal "$name: wrk connects" "$(conns_per_backend)"
	for vip in "${VIPS[@]}"; do
		ctl backend add "$vip" "$(be_addr "$vip" 4 | tr -d '"')" >/dev/null ||
			fatal "$name: be4 joins $vip in the old build"
	done
	wait_for 5 all_up 4 || fatal "$name: be4 up" "$(ctl backend show)"
	ok "$name: the old build serves $CONNS4 + $CONNS6 connections, be4 joined under load"
	wait_for 5 load_flowing "$(($(vip_packets) + 2000))"
	BEFORE=$(conns_per_backend)
	OLD_PROG=$(ctl -j status | jq .prog_id)
	OLD_CT=$(map_id conntrack)
	OLD_MAPS=$(map_ids)
	xlbd_stop TERM
	[ "$keep" = 1 ] || rm "$PIN/conntrack"
	XLBD=$NEW_XLBD XLBCTL=$NEW_XLBCTL
	lines=$(wc -l <"$RUN/xlbd.log")
	xlbd_start "$RUN/new.yaml" ||
		fatal "$name: the new build starts over the old pins" "$(tail -5 "$RUN/xlbd.log")"
	NEW_LOG=$(tail -n +$((lines + 1)) "$RUN/xlbd.log")
	ok "$name: the new build starts over the old pins, under load"
	wait_for 5 all_up 5 || not_ok "$name: be5 joins at the upgrade" "$(ctl backend show)"
}

# ---- the old build
old_build
rc=$?
if [ "$rc" = 2 ]; then
	ok "the old build # SKIP commit $OLD_COMMIT is not in this repository (a shallow clone? git fetch --unshallow)"
	tap_end
	exit 0
fi
[ "$rc" = 0 ] || fatal "the old build ($OLD_COMMIT) builds" "$OLD_HOW"
ok "the old build ($OLD_COMMIT): $OLD_HOW"

# ---- upgrade under load
upgrade upgrade 1
while IFS= read -r line; do echo "# new xlbd: $line"; done <<<"$NEW_LOG"
check "upgrade: the program was replaced in place" grep -q "replaced the running XDP on eth0" <<<"$NEW_LOG"
check "upgrade: a new program id" test "$(ctl -j status | jq .prog_id)" != "$OLD_PROG"
expect_eq "upgrade: the old table is adopted (same map id)" "$(map_id conntrack)" "$OLD_CT"
new_maps=$(map_ids)
echo "# pinned maps before: $OLD_MAPS"
echo "# pinned maps after:  $new_maps"
# the new build's own maps come new; each of the old build's is the same map
kept=$(for m in $OLD_MAPS; do grep -qwF -- "$m" <<<"$new_maps" && printf '%s ' "$m"; done)
expect_eq "upgrade: every old map keeps its id" "$kept" "$OLD_MAPS"
# the legacy hits are over once every connection has sent a packet
wait_for 5 load_flowing "$(($(vip_packets) + 2000))"
legacy1=$(stat_of ct_legacy_hit) hit1=$(stat_of ct_hit)
wait_for 5 load_flowing "$(($(vip_packets) + 5000))"
legacy2=$(stat_of ct_legacy_hit) hit2=$(stat_of ct_hit)
echo "# ct_legacy_hit $legacy1 then $legacy2; ct_hit $hit1 then $hit2"
check "upgrade: each connection was found in the old table (ct_legacy_hit >= $CONNS)" \
	test "$legacy1" -ge "$CONNS"
check "upgrade: then they are in the new tables (ct_hit grows, ct_legacy_hit stays)" \
	test "$hit2" -gt "$hit1" -a "$legacy2" = "$legacy1"
in4=$(entries flows4) in6=$(entries flows6)
check "upgrade: flows4 and flows6 hold the connections ($in4 and $in6 entries)" \
	test "$in4" -ge "$CONNS4" -a "$in6" -ge "$CONNS6"
after=$(conns_per_backend)
echo "# connections per backend (IPv4/IPv6) before: $BEFORE"
echo "# connections per backend (IPv4/IPv6) after:  $after"
expect_eq "upgrade: every connection is still on its backend" "$after" "$BEFORE"
wrk_wait
echo "# wrk across the upgrade: $reqs requests, $sock_err socket errors, $non2xx non-2xx"
expect_eq "upgrade: wrk sees zero socket errors and zero non-2xx" "$sock_err $non2xx" "0 0"
check "upgrade: wrk got through" test "$reqs" -gt 10000
urls=()
for i in $(seq 1 60); do urls+=(-o /dev/stdout "http://$V4/"); done
answers=$(ip netns exec "$CLIENT" curl -s -m 5 -H 'Connection: close' "${urls[@]}" | awk '{print $2}')
check "upgrade: new connections reach be5 (the table changed)" grep -q be5 <<<"$answers"
# the old table stays, read after the new ones miss, until xlbd retires it
echo "# left over: $PIN/conntrack, $(entries conntrack) entries"
up_prog=$(ctl -j status | jq .prog_id)
lines=$(wc -l <"$RUN/xlbd.log")
xlbd_stop TERM
xlbd_start "$RUN/new.yaml" || fatal "upgrade: the new build restarts over its own pins" "$(tail -5 "$RUN/xlbd.log")"
check "upgrade: a restart of the new build keeps the running program" \
	bash -c "tail -n +$((lines + 1)) '$RUN/xlbd.log' | grep -q 'adopted the running XDP on eth0'"
expect_eq "upgrade: ...same program id, same old table" \
	"$(ctl -j status | jq .prog_id) $(map_id conntrack)" "$up_prog $OLD_CT"

# ---- control: the same upgrade without the old table
upgrade control 0
wrk_wait
echo "# connections per backend (IPv4/IPv6) before: $BEFORE"
echo "# wrk across the upgrade without the old table: $reqs requests, $sock_err socket errors, $non2xx non-2xx"
check "control: without the old table connections break (wrk counts them)" test "$sock_err" -gt 0
expect_eq "control: nothing found in an old table" "$(stat_of ct_legacy_hit)" 0

tap_end
