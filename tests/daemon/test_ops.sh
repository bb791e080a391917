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

# ---- restart: what the saved state brings back ----
for v in $(ctl -j vip show | jq -r '.vips[].vip'); do
	[ "$v" = 198.18.100.9:80/tcp ] || ctl vip del "$v" >/dev/null
done
xlbd_stop
check_start "xlbd restarts on its saved state" "$CONF"
expect_eq "the start line says 1 VIP, 1 backend" \
	"$(grep -c "xlbd: info: 1 VIP, 1 backend, from the saved runtime state" "$RUN/xlbd.log")" 1

tap_end
