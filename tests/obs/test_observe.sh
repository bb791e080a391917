#!/usr/bin/env bash
# Observability end to end: a real Prometheus scrapes xlbd, promtool lints
# the exposition, `xlbctl top` runs under a terminal during load, and
# `xlbctl explain` agrees with the running program. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

V4=198.18.100.10
VIP=$V4:80/tcp
P=xlbt-o$$-
TMUX_SOCK=xlbt-top-$$
cleanup() {
	tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
	site_down
}
trap cleanup EXIT INT TERM

site_up "$P" -n 3 --nginx
CLIENT=${P}client
LB=${P}lb
cat >"$RUN/xlb.yaml" <<EOF
interfaces: [eth0]
conntrack: { size: 65536 }
metrics: 198.18.0.2:9100
vips:
  - vip: $VIP
    health: { check: http, path: /healthz, interval: 500ms, timeout: 300ms }
    backends: [ { address: 198.18.0.11 }, { address: 198.18.0.12 }, { address: 198.18.0.13 } ]
EOF
check_start "xlbd starts with metrics: in its config" "$RUN/xlb.yaml"
check "the log names the metrics address" grep -q "serving metrics on http://198.18.0.2:9100/metrics" "$RUN/xlbd.log"
all_up() { [ "$(ctl -j backend show | jq '[.backends[] | select(.state == "up")] | length')" = 3 ]; }
check "backends up" wait_for 15 all_up

scrape() { ip netns exec "$LB" curl -s -m 5 http://198.18.0.2:9100/metrics; }
scrape >"$RUN/metrics.txt"
check "/metrics answers" test -s "$RUN/metrics.txt"
out=$(promtool check metrics <"$RUN/metrics.txt" 2>&1)
expect_eq "promtool check metrics: no problems" "$? $out" "0 "
check "per-VIP, per-backend and global families are there" bash -c "
	grep -q '^xlb_vip_packets_total{vip=\"$VIP\"} ' $RUN/metrics.txt &&
	grep -q '^xlb_backend_up{vip=\"$VIP\",backend=\"198.18.0.11\"} 1' $RUN/metrics.txt &&
	grep -q '^xlb_dropped_packets_total{reason=\"malformed_l3_trunc\"} ' $RUN/metrics.txt &&
	grep -q '^xlb_conntrack_hits_total ' $RUN/metrics.txt &&
	grep -q '^xlb_build_info{' $RUN/metrics.txt"
expect_eq "a path other than /metrics is 404" \
	"$(ip netns exec "$LB" curl -s -o /dev/null -w '%{http_code}' http://198.18.0.2:9100/other)" 404

# ---- a real Prometheus ----
prometheus_start
echo $! >"$RUN/prometheus.pid"
check "Prometheus scrapes xlbd" wait_for 30 bash -c "[ \"\$(ip netns exec $LB curl -s -m 2 -G http://198.18.0.2:9090/api/v1/query --data-urlencode 'query=up{job=\"xlb\"}' | jq -r '.data.result[0].value[1] // empty')\" = 1 ]"

c0=$(ip -n "$CLIENT" -j -s link show eth0 | jq '.[0].stats64.tx.packets')
args=()
for i in $(seq 1 200); do args+=(-o /dev/null "http://$V4/"); done
ip netns exec "$CLIENT" curl -s -m 10 -H 'Connection: close' "${args[@]}"
sent=$(($(ip -n "$CLIENT" -j -s link show eth0 | jq '.[0].stats64.tx.packets') - c0))
vip_pkts=$(ctl -j stats "$VIP" | jq '.vips[0].packets')
echo "# the client sent $sent packets; xlb counted $vip_pkts for the VIP"
check "xlb counted what the client sent (less its ARP)" test "$vip_pkts" -le "$sent" -a "$vip_pkts" -ge $((sent - 5))
check "Prometheus holds the VIP's packet count" \
	wait_for 15 bash -c "[ \"\$(ip netns exec $LB curl -s -m 2 -G http://198.18.0.2:9090/api/v1/query --data-urlencode 'query=xlb_vip_packets_total{vip=\"$VIP\"}' | jq -r '.data.result[0].value[1] // empty')\" = $vip_pkts ]"
ok_be=1
for be in 198.18.0.11 198.18.0.12 198.18.0.13; do
	want=$(ctl -j stats "$VIP" | jq --arg a "$be" '.backends[] | select(.address == $a) | .packets')
	got=$(promq "xlb_backend_packets_total{vip=\"$VIP\",backend=\"$be\"}")
	[ "$got" = "$want" ] || ok_be=0
	echo "# backend $be: prometheus $got, xlb $want"
done
expect_eq "Prometheus holds every backend's packet count" "$ok_be" 1
expect_eq "the backends' packets add up to the VIP's" \
	"$(promq "sum(xlb_backend_packets_total{vip=\"$VIP\"})")" "$vip_pkts"

# ---- xlbctl top under a terminal ----
ip netns exec "$CLIENT" wrk -t 2 -c 8 -d 10s "http://$V4/" >"$RUN/wrk.out" 2>&1 &
echo $! >"$RUN/wrk.pid"
wait_for 5 bash -c "[ \$($XLBCTL -s $SOCK -j stats | jq '.vips[0].packets') -gt $((vip_pkts + 1000)) ]"
tmux -L "$TMUX_SOCK" new-session -d -s top -x 160 -y 50
tmux -L "$TMUX_SOCK" set-option -t top remain-on-exit on
p0=$(ctl -j stats "$VIP" | jq '.vips[0].packets') t0=$(date +%s%N)
tmux -L "$TMUX_SOCK" respawn-pane -k -t top "$XLBCTL -s $SOCK top -n 3; echo \$? >$RUN/top.rc"
# curses restores the screen on exit: read it while top runs
shows_rate() {
	tmux -L "$TMUX_SOCK" capture-pane -p -t top >"$RUN/top.screen"
	awk -v vip="$VIP" '$1 == vip && $3 ~ /^[0-9]/ {found = 1} END {exit !found}' "$RUN/top.screen"
}
check "top draws the VIP's rates on the terminal" wait_for 10 shows_rate
p1=$(ctl -j stats "$VIP" | jq '.vips[0].packets') t1=$(date +%s%N)
check "top -n 3 ends by itself" wait_for 15 bash -c "[ \"\$(tmux -L $TMUX_SOCK display -p -t top '#{pane_dead}')\" = 1 ]"
expect_eq "top exited 0" "$(cat "$RUN/top.rc")" 0
sed 's/^/# | /' "$RUN/top.screen" | head -30
real_pps=$(((p1 - p0) * 1000000000 / (t1 - t0)))
# the VIP's row: VIP ACTIVE PPS BITRATE NEW FLOWS/S
top_active=$(awk -v vip="$VIP" '$1 == vip {print $2; exit}' "$RUN/top.screen")
top_pps=$(awk -v vip="$VIP" '$1 == vip {print $3; exit}' "$RUN/top.screen")
echo "# top shows $top_pps pps for the VIP; the counters moved at $real_pps pps meanwhile"
num() { # 12.3k -> 12300
	awk -v x="$1" 'BEGIN { m = 1; if (x ~ /k$/) m = 1e3; if (x ~ /M$/) m = 1e6; if (x ~ /G$/) m = 1e9; printf "%d", x * m }'
}
top_n=$(num "$top_pps")
check "top's packet rate is non-zero" test "$top_n" -gt 0
check "top's packet rate is plausible (within half to twice the counters' rate)" \
	test "$top_n" -ge $((real_pps / 2)) -a "$top_n" -le $((real_pps * 2))
expect_eq "top shows wrk's 8 connections as the VIP's live flows" "$top_active" 8
wait "$(cat "$RUN/wrk.pid")" 2>/dev/null

# ---- explain agrees with the running program ----
ok_ex=1
for port in $(seq 45000 45019); do
	mac=$(ip netns exec "$LB" "$PROBE" flow "$PIN" eth0 198.18.0.1 "$port" "$VIP" | cut -d' ' -f2)
	reply=$(ctl -j explain "198.18.0.1:$port" "$VIP")
	be=$(echo "$reply" | jq -r .backend)
	be_mac=$(ctl -j backend show "$VIP" | jq -r --arg a "$be" '.backends[] | select(.address == $a) | .mac')
	[ "$be_mac" = "$mac" ] || { ok_ex=0; echo "# port $port: program $mac, explain $be ($be_mac)"; }
done
expect_eq "explain names the backend the program sends 20 tracked flows to" "$ok_ex" 1
# the README's metrics table: every family the endpoint exports, every reason
scrape >"$RUN/scrape.txt"
missing=
for f in $(awk '$1 == "#" && $2 == "TYPE" {print $3}' "$RUN/scrape.txt"); do
	grep -qF "\`$f" "$TOP/README.md" || missing="$missing $f"
done
expect_eq "the README's metrics table names every metric family exported" "${missing:-none}" none
missing=
for r in $(grep -oE '^xlb_(passed|dropped)_packets_total\{reason="[a-z_0-9]+"' "$RUN/scrape.txt" |
	sed 's/.*reason="//; s/"//'); do
	grep -qE "^\| \`xlb_(passed|dropped)_packets_total.*\`$r\`" "$TOP/README.md" || missing="$missing $r"
done
expect_eq "... and every reason of the passed and dropped packets" "${missing:-none}" none
check "explain says the connection-table entry was used" bash -c \
	"$XLBCTL -s $SOCK explain 198.18.0.1:45000 $VIP | grep -q '^2\\. conntrack: .*used'"
ctl explain 198.18.0.1:45000 "$VIP" | sed 's/^/# /'

tap_end
