#!/usr/bin/env bash
# What operators look for (issue 16, part 2), on a real xlbd: ordered
# output, singular counts, help anywhere, stats -z, vip set, config dump,
# conntrack list and flush, audit lines and log formats. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

P=xlbt-o$$-
cleanup() {
	site_down
}
trap cleanup EXIT INT TERM

site_up "$P" -n 3
LB=${P}lb
V80=198.18.100.10:80/tcp
V6=[2001:db8:100::10]:80/tcp
CONF=$RUN/xlb.yaml
# listed out of order, so that the order shown is the one xlbd makes
cat >"$CONF" <<EOF2
interfaces: [eth0]
conntrack: { size: 65536 }
vips:
  - vip: 198.18.100.20:80/tcp
    health: { check: none }
    backends: [ { address: 198.18.0.11 } ]
  - vip: "$V6"
    health: { check: none }
    backends: [ { address: "2001:db8::12" }, { address: "2001:db8::11" } ]
  - vip: 198.18.100.10:443/tcp
    health: { check: none }
    backends: [ { address: 198.18.0.11 } ]
  - vip: 198.18.100.10:80/udp
    health: { check: none }
    backends: [ { address: 198.18.0.11 } ]
  - vip: $V80
    health: { check: none }
    backends:
      - { address: 198.18.0.13 }
      - { address: 198.18.0.11 }
      - { address: 198.18.0.12 }
  - vip: 198.18.100.9:80/tcp
    health: { check: none }
    backends: [ { address: 198.18.0.12 } ]
EOF2

check_start "xlbd starts" "$CONF" --metrics 127.0.0.1:9912
flow() { # SPORT VIP [syn] -> "TX mac"
	ip netns exec "$LB" "$PROBE" flow "$PIN" eth0 198.18.0.1 "$@"
}
metric() { # NAME{LABELS}: its value
	ip netns exec "$LB" curl -s -m 5 http://127.0.0.1:9912/metrics |
		awk -v m="$1" '$1 == m { print $2 }'
}
metric_is() { [ "$(metric "$1")" = "$2" ]; }
tables_written() { [ "$(ctl -j status | jq .tables_pending)" = 0 ]; }
vip_stat() { # VIP FIELD: from stats -j
	ctl -j stats "$1" | jq -r --arg v "$1" ".vips[] | select(.vip == \$v) | .$2"
}

# ---- 1. ordered output ----
ctl vip add 198.18.100.5:80/tcp >/dev/null
ctl backend add 198.18.100.5:80/tcp 198.18.0.12 >/dev/null
ctl backend add 198.18.100.5:80/tcp 198.18.0.11 >/dev/null
want_vips="198.18.100.5:80/tcp 198.18.100.9:80/tcp 198.18.100.10:80/tcp 198.18.100.10:80/udp 198.18.100.10:443/tcp 198.18.100.20:80/tcp $V6"
expect_eq "vip show -j: sorted by family, address, port, protocol" \
	"$(ctl -j vip show | jq -r '[.vips[].vip] | join(" ")')" "$want_vips"
expect_eq "vip show: the table in the same order" \
	"$(ctl vip show | awk 'NR > 1 {print $1}' | tr '\n' ' ')" "$want_vips "
expect_eq "backend show -j: by VIP, then address" \
	"$(ctl -j backend show | jq -r '[.backends[] | .vip + "=" + .address] | join(" ")')" \
	"198.18.100.5:80/tcp=198.18.0.11 198.18.100.5:80/tcp=198.18.0.12 198.18.100.9:80/tcp=198.18.0.12 $V80=198.18.0.11 $V80=198.18.0.12 $V80=198.18.0.13 198.18.100.10:80/udp=198.18.0.11 198.18.100.10:443/tcp=198.18.0.11 198.18.100.20:80/tcp=198.18.0.11 $V6=2001:db8::11 $V6=2001:db8::12"
expect_eq "backend show VIP: by address" \
	"$(ctl backend show "$V80" | awk 'NR > 1 {print $2}' | tr '\n' ' ')" \
	"198.18.0.11 198.18.0.12 198.18.0.13 "
w13=$(ctl -j backend show "$V80" | jq -r '.backends[] | select(.address == "198.18.0.13") | .weight')
ctl backend set "$V80" 198.18.0.13 weight 0 >/dev/null
check "backend show: a REASON column, with why a backend is not up" bash -c \
	"$XLBCTL -s $SOCK backend show $V80 | head -1 | grep -q ' STATE  *REASON  *LAST-CHECK ' &&
	 $XLBCTL -s $SOCK backend show $V80 | grep -E '^$V80 +198\.18\.0\.13 +0 +drain +weight 0 '"
ctl backend set "$V80" 198.18.0.13 weight "$w13" >/dev/null

# ---- 2. one VIP, not 1 VIPs ----
ctl vip add 198.18.100.30:80/tcp limit-conns 1 >/dev/null
expect_eq "vip show: 1 conn, not 1 conns" \
	"$(ctl vip show 198.18.100.30:80/tcp | awk 'NR == 2' | grep -o '1 conns\?')" "1 conn"
ctl vip del 198.18.100.30:80/tcp >/dev/null
check "the start line counts in plural: 6 VIPs, 9 backends" \
	grep -q "xlbd: info: 6 VIPs, 9 backends, from" "$RUN/xlbd.log"

# ---- 4. stats -z: a baseline for xlbctl, the metrics go on ----
check "the tables are written" wait_for 5 tables_written
for p in $(seq 42000 42009); do flow "$p" "$V80" syn >/dev/null; done
check "10 packets counted before -z, in the metrics (cached a while)" \
	wait_for 5 metric_is "xlb_vip_packets_total{vip=\"$V80\"}" 10
expect_eq "and in stats" "$(vip_stat "$V80" packets)" 10
expect_eq "stats -z shows the counts up to now" \
	"$(ctl -j stats -z | jq -r --arg v "$V80" '.vips[] | select(.vip == $v) | .packets')" 10
expect_eq "stats after -z: zero" "$(vip_stat "$V80" packets)" 0
expect_eq "backend counters too" \
	"$(ctl -j stats "$V80" | jq -c '[.backends[].packets] | add')" 0
for p in $(seq 42010 42012); do flow "$p" "$V80" syn >/dev/null; done
expect_eq "stats after -z: the packets since, only (3)" "$(vip_stat "$V80" packets)" 3
check "the metrics stay monotonic: 13" wait_for 5 metric_is "xlb_vip_packets_total{vip=\"$V80\"}" 13
global_tx=$(ctl -j stats | jq .global.tx)
expect_eq "global tx counts from -z too: 3" "$global_tx" 3
expect_eq "stats -z VIP: that VIP's counters only" \
	"$(ctl -j stats -z "$V80" >/dev/null; vip_stat "$V80" packets) $(ctl -j stats | jq .global.tx)" \
	"0 $global_tx"

# ---- 5. vip set: settings at run time, backends and flows stay ----
flows_of() { # SPORT... [syn]: the backend MAC of each flow
	local p out= syn=
	[ "${!#}" = syn ] && syn=syn
	for p in "$@"; do
		[ "$p" = syn ] && continue
		out="$out $(flow "$p" "$V80" $syn | cut -d' ' -f2)"
	done
	echo "$out"
}
sports=$(seq 43000 43029)
before=$(flows_of $sports syn)
backends_before=$(backend_view "$V80")
check "vip set VIP sched rr" ctl vip set "$V80" sched rr check tcp interval 2s
expect_eq "vip show: rr, tcp check, 2s; the backends are all there" \
	"$(ctl -j vip show "$V80" | jq -r '.vips[0] | [.sched, .health.check, .health.interval, .backends] | join(" ")')" \
	"rr tcp 2s 3"
expect_eq "backend show: the same backends, weights and states" "$(backend_view "$V80")" "$backends_before"
expect_eq "established flows keep their backends across the scheduler change" \
	"$(flows_of $sports)" "$before"
check "vip set VIP check none: back to no check" ctl vip set "$V80" check none
new=$(flows_of $(seq 43100 43129) syn)
expect_eq "new flows: rr spreads them over the 3 backends" \
	"$(tr ' ' '\n' <<<"$new" | grep -c . ) $(tr ' ' '\n' <<<"$new" | sort -u | grep -c .)" "30 3"
add_err=$(ctl vip add 198.18.100.40:80/tcp timeout 30s 2>&1; echo "rc=$?")
set_err=$(ctl vip set "$V80" timeout 30s 2>&1; echo "rc=$?")
expect_eq "vip set is refused with vip add's message" "$set_err" "$add_err"
expect_eq "and that message names the problem" "$set_err" "xlbctl: timeout: timeout 30s must be less than interval 2s
rc=1"
expect_eq "the refused change left the VIP as it was" \
	"$(ctl -j vip show "$V80" | jq -r '.vips[0] | [.sched, .health.check, .health.timeout] | join(" ")')" \
	"rr none 1s"
bad=$(ctl vip set 198.18.100.41:80/tcp sched rr 2>&1; echo "rc=$?")
expect_eq "vip set on no VIP" "$bad" "xlbctl: no such VIP
rc=1"

# ---- 6. config dump: YAML that xlbd -c loads; a round trip changes nothing ----
ctl backend set "$V80" 198.18.0.13 drain >/dev/null
ctl backend set "$V80" 198.18.0.12 weight 300 >/dev/null
ctl backend set 198.18.100.10:443/tcp 198.18.0.11 disable >/dev/null
ctl vip set 198.18.100.20:80/tcp sched wlc persist 5m persist-prefix-v4 24 limit-rate 50 limit-conns 9 \
	check http /healthz check-port 8080 interval 3s timeout 500ms rise 4 fall 5 min-up 1 >/dev/null
ctl block add 198.18.66.0/24 >/dev/null
ctl block add 198.18.67.0/24 vip "$V80" >/dev/null
ctl block add 198.18.66.7 allow >/dev/null
DUMP1=$RUN/dump1.yaml DUMP2=$RUN/dump2.yaml
check "config dump" sh -c "'$XLBCTL' -s '$SOCK' config dump >'$DUMP1'"
check "xlbd --check accepts the dump" ip netns exec "$LB" "$XLBD" --check -c "$DUMP1"
expect_eq "the dump has every VIP, backend, and the runtime changes" \
	"$(grep -c '^  - vip:' "$DUMP1") $(grep -c '^      - { address:' "$DUMP1") $(grep -c 'state: drain' "$DUMP1") $(grep -c 'state: disabled' "$DUMP1") $(grep -c 'weight: 300' "$DUMP1") $(grep -c 'scheduler: wlc' "$DUMP1")" \
	"7 11 1 1 1 1"

# ---- restart: what the saved state brings back ----
for v in $(ctl -j vip show | jq -r '.vips[].vip'); do
	[ "$v" = 198.18.100.9:80/tcp ] || ctl vip del "$v" >/dev/null
done
check "vip set: wrr, persist, a conn limit" ctl vip set 198.18.100.9:80/tcp sched wrr persist 90s limit-conns 5
xlbd_stop
check_start "xlbd restarts on its saved state" "$CONF"
expect_eq "vip set's change survived the restart (state.json)" \
	"$(ctl -j vip show | jq -c '[.vips[] | [.vip, .sched, .persist, .limits.max_conns]]')" \
	'[["198.18.100.9:80/tcp","wrr","90s",5]]'
check "vip set persist off" ctl vip set 198.18.100.9:80/tcp persist off
expect_eq "persist is off" "$(ctl -j vip show | jq -r '.vips[0].persist // "off"')" off
expect_eq "the start line says 1 VIP, 1 backend" \
	"$(grep -c "xlbd: info: 1 VIP, 1 backend, from the saved runtime state" "$RUN/xlbd.log")" 1

# the round trip: a fresh xlbd (no saved state) on the dump dumps the same
xlbd_stop
rm -rf "$STATE"
check_start "a fresh xlbd starts on the dump" "$DUMP1" --metrics 127.0.0.1:9912
check "config dump again" sh -c "'$XLBCTL' -s '$SOCK' config dump >'$DUMP2'"
expect_eq "the round trip changes nothing" "$(diff "$DUMP1" "$DUMP2" && echo same)" same

tap_end
