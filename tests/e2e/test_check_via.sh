#!/usr/bin/env bash
# Health checks through the VIP (health.via: vip): the checker connects to
# the VIP itself, steered to each backend by a socket mark and a policy
# rule. A backend that answers on its own address but lost the VIP from its
# loopback (the DSR black hole) goes down with a "via VIP" reason and takes
# no new connection, where a plain check keeps it up; rules and routes are
# xlb's alone, follow the VIPs and go when xlbd stops. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

A=198.18.100.10   # checked via the VIP
B=198.18.100.11   # checked on the backend's address
C=2001:db8:100::10
BASE=$((0x786c0000))
FOREIGN_T=4242

cleanup() { site_down; }
trap cleanup EXIT INT TERM

site_up "xlbt-cv$$-" -n 3 --nginx
LB=${SITE}lb
BE1=${SITE}be1

field() { # VIP ADDR FIELD
	ctl -j backend show "$1" | jq -r --arg a "$2" ".backends[] | select(.address == \$a) | .$3"
}
field_is() { [ "$(field "$1" "$2" "$3")" = "$4" ]; }
n_up() { ctl -j backend show "$1" | jq '[.backends[] | select(.state == "up")] | length'; }
n_up_is() { [ "$(n_up "$1")" = "$2" ]; }
# xlb's rules (pref 100, proto 120), both families
xlb_rules() { { ip -n "$LB" -4 rule show pref 100; ip -n "$LB" -6 rule show pref 100; } | grep -c 'proto 120'; }
xlb_rules_is() { [ "$(xlb_rules)" = "$1" ]; }
# routes of protocol 120 in xlb's tables (both families)
xlb_routes() {
	local t
	for t in $(seq "$BASE" $((BASE + 7))); do
		ip -n "$LB" -4 route show table "$t" proto 120 2>/dev/null
		ip -n "$LB" -6 route show table "$t" proto 120 2>/dev/null
	done
}
# the table whose route to VIP goes via GW
route_to() { xlb_routes | grep -c "^$1 via $2 dev eth0"; }
route_to_is() { [ "$(route_to "$1" "$2")" = "$3" ]; }
# served N VIP: N new connections, each answered; prints the backends that answered
served() {
	local i
	for i in $(seq 1 "$1"); do
		ip netns exec "${SITE}client" curl -s -m 1 -H "Connection: close" \
			--local-port $((20000 + i)) "http://$2/" || echo "failed"
	done
}

# What a crashed xlbd left (a rule and a route of xlb's), and someone else's.
ip -n "$LB" rule add fwmark $((BASE + 4095)) lookup $((BASE + 4095)) pref 100 proto 120
ip -n "$LB" route add unreachable default table $((BASE + 4095)) proto 120
ip -n "$LB" rule add fwmark 0x99 lookup "$FOREIGN_T" pref 100
ip -n "$LB" route add 198.18.100.10/32 via 198.18.0.12 dev eth0 table "$FOREIGN_T"
ip -n "$LB" route add unreachable 198.18.100.99/32 table $((BASE + 4094)) proto static

cat >"$RUN/xlb.yaml" <<CONF
interfaces: [eth0]
conntrack: { size: 65536 }
vips:
  - vip: "$A:80/tcp"
    health: { check: http, path: /healthz, via: vip, interval: 300ms, timeout: 200ms, rise: 2, fall: 2 }
    backends: [ { address: 198.18.0.11 }, { address: 198.18.0.12 }, { address: 198.18.0.13 } ]
  - vip: "$B:80/tcp"
    health: { check: tcp, interval: 300ms, timeout: 200ms, rise: 2, fall: 2 }
    backends: [ { address: 198.18.0.11 }, { address: 198.18.0.12 }, { address: 198.18.0.13 } ]
  - vip: "[$C]:80/tcp"
    health: { check: http, path: /healthz, via: vip, interval: 300ms, timeout: 200ms, rise: 2, fall: 2 }
    backends: [ { address: "2001:db8::11" }, { address: "2001:db8::12" } ]
CONF
check "xlbd --check takes health.via" "$XLBD" --check -c "$RUN/xlb.yaml"
check_start "xlbd starts" "$RUN/xlb.yaml"

scenario() { echo "# $*"; }

scenario "every backend up, checked through the VIP"
check "all three of $A up" wait_for 10 n_up_is "$A:80/tcp" 3
check "all three of $B up" wait_for 10 n_up_is "$B:80/tcp" 3
check "both of [$C] up" wait_for 10 n_up_is "[$C]:80/tcp" 2
expect_eq "$A's checks say via VIP" "$(field "$A:80/tcp" 198.18.0.11 last_check)" "ok via VIP"
expect_eq "$B's checks do not" "$(field "$B:80/tcp" 198.18.0.11 last_check)" "ok"
expect_eq "[$C]'s checks say via VIP" "$(field "[$C]:80/tcp" 2001:db8::12 last_check)" "ok via VIP"
expect_eq "vip show: health.via" "$(ctl -j vip show | jq -r '[.vips[].health.via] | join(" ")')" \
	"vip backend vip"
check "config dump: via: vip" bash -c "'$XLBCTL' -s '$SOCK' config dump | grep -q 'check: http, path: \"/healthz\", via: vip'"
check "state.json: via" bash -c "jq -e '[.vips[].health.via] == [\"vip\", \"backend\", \"vip\"]' '$STATE/state.json'"
expect_eq "status: 5 backend addresses checked via a VIP" \
	"$(ctl -j status | jq -c .check_via)" '{"backends":5,"routes":5}'

scenario "xlb's rules and routes, and only those"
expect_eq "one rule per backend address (3 IPv4, 2 IPv6)" "$(xlb_rules)" 5
for be in 11 12 13; do
	check "route to $A via 198.18.0.$be" route_to_is "$A" "198.18.0.$be" 1
done
check "route to $C via 2001:db8::11" route_to_is "$C" 2001:db8::11 1
check "the stale rule of a crashed xlbd is gone" bash -c \
	"! ip -n '$LB' rule show | grep -q 'lookup $((BASE + 4095))'"
check "so is its route" bash -c "[ -z \"\$(ip -n '$LB' route show table $((BASE + 4095)))\" ]"
check "the log says so" grep -q 'removed 2 stale rules and routes' "$RUN/xlbd.log"
check "a foreign rule at the same priority stays" bash -c \
	"ip -n '$LB' rule show pref 100 | grep -q 'fwmark 0x99 lookup $FOREIGN_T'"
check "a foreign route in xlb's range, of another protocol, stays" bash -c \
	"ip -n '$LB' route show table $((BASE + 4094)) | grep -q 198.18.100.99"

scenario "the DSR black hole: be1 loses the VIPs from its loopback"
ip -n "$BE1" addr del "$A/32" dev lo
ip -n "$BE1" addr del "$B/32" dev lo
check "be1 of $A goes down" wait_for 5 field_is "$A:80/tcp" 198.18.0.11 state down
expect_eq "with the reason" "$(field "$A:80/tcp" 198.18.0.11 reason)" \
	"failing health checks via the VIP"
expect_eq "and the last check" "$(field "$A:80/tcp" 198.18.0.11 last_check)" "timeout via VIP"
check "the log names it" grep -q "backend 198.18.0.11 of $A:80/tcp down: timeout via VIP (2/2)" \
	"$RUN/xlbd.log"
# B's checks ran all along (interval 300 ms, fall 2): it would be down by now
expect_eq "be1 of $B, checked on its own address, stays up" \
	"$(field "$B:80/tcp" 198.18.0.11 state)" up
expect_eq "the other backends of $A stay up" "$(n_up "$A:80/tcp")" 2
out=$(served 30 "$A")
expect_eq "30 new clients of $A all served" "$(grep -c '^backend be' <<<"$out")" 30
expect_eq "none by be1" "$(grep -c '^backend be1 ' <<<"$out")" 0
out=$(served 12 "$B")
check "clients of $B meet the black hole (be1 still in its table)" grep -q failed <<<"$out"

scenario "the VIPs back on be1's loopback"
ip -n "$BE1" addr add "$A/32" dev lo
ip -n "$BE1" addr add "$B/32" dev lo
check "be1 of $A comes back" wait_for 5 field_is "$A:80/tcp" 198.18.0.11 state up
expect_eq "checked via the VIP" "$(field "$A:80/tcp" 198.18.0.11 last_check)" "ok via VIP"

scenario "vip set, vip add, vip del"
check "vip set $B check-via vip" ctl vip set "$B:80/tcp" check-via vip
check "$B's checks go through the VIP" wait_for 5 field_is "$B:80/tcp" 198.18.0.13 last_check "ok via VIP"
check "route to $B via 198.18.0.12, in be2's table" route_to_is "$B" 198.18.0.12 1
expect_eq "no new rule: one per backend address" "$(xlb_rules)" 5
out=$(ctl vip add 198.18.100.12:80/tcp forward ipip check-via vip 2>&1)
expect_eq "ipip is refused" "$out" \
	"xlbctl: check-via: via vip needs forward l2dsr (an ipip check would have to be encapsulated)"
out=$(ctl vip add 198.18.100.12:80/tcp check-via sideways 2>&1)
expect_eq "a bad value is refused" "$out" "xlbctl: check-via: unknown value 'sideways' (backend or vip)"
check "vip set $B check-via backend" ctl vip set "$B:80/tcp" check-via backend
check "its routes go" wait_for 5 route_to_is "$B" 198.18.0.12 0
check "vip del [$C]" ctl vip del "[$C]:80/tcp"
check "its rules go" wait_for 5 xlb_rules_is 3
check "its routes too" route_to_is "$C" 2001:db8::11 0
expect_eq "and their tables' unreachable defaults: 3 left, IPv4" \
	"$(xlb_routes | grep -c '^unreachable default')" 3
check "$A's stay" route_to_is "$A" 198.18.0.11 1

scenario "a reload applies health.via"
sed -e '/vip: "'"$A"':80/,/backends/ s/via: vip, //' \
	-e '/vip: "'"$B"':80/,/backends/ s/check: tcp, /check: tcp, via: vip, /' "$RUN/xlb.yaml" >"$RUN/xlb2.yaml"
mv "$RUN/xlb2.yaml" "$RUN/xlb.yaml"
check "xlbctl reload" ctl reload
check "$A's routes go" wait_for 5 route_to_is "$A" 198.18.0.11 0
check "$A's checks are on the backends' addresses" \
	wait_for 5 field_is "$A:80/tcp" 198.18.0.11 last_check ok
check "$B's checks go through the VIP" wait_for 5 field_is "$B:80/tcp" 198.18.0.11 last_check "ok via VIP"
check "route to $B via 198.18.0.11" route_to_is "$B" 198.18.0.11 1
check "[$C] is back, with its rules" wait_for 5 xlb_rules_is 5

scenario "xlbd stops"
xlbd_stop
expect_eq "no rule of xlb's left" "$(xlb_rules)" 0
expect_eq "no route of xlb's left" "$(xlb_routes | wc -l)" 0
check "the foreign rule stays" bash -c "ip -n '$LB' rule show pref 100 | grep -q 'lookup $FOREIGN_T'"
check "and its route" bash -c "ip -n '$LB' route show table $FOREIGN_T | grep -q '$A via'"

scenario "strict rp_filter on the LB drops the answers from the VIP"
ip netns exec "$LB" sysctl -qw net.ipv4.conf.eth0.rp_filter=1
check_start "xlbd starts again" "$RUN/xlb.yaml"
check "it warns" wait_for 5 grep -q 'rp_filter is 1 (strict) on eth0' "$RUN/xlbd.log"
check "the checks through $B time out" \
	wait_for 5 field_is "$B:80/tcp" 198.18.0.12 last_check "timeout via VIP"
expect_eq "the checks of $A, on the backends' addresses, do not" \
	"$(field "$A:80/tcp" 198.18.0.12 last_check)" ok
ip netns exec "$LB" sysctl -qw net.ipv4.conf.eth0.rp_filter=0

scenario "kill -9, then a start: the crashed xlbd's rules go, the new one's come"
xlbd_stop KILL
expect_eq "kill -9 leaves the rules" "$(xlb_rules)" 5
: >"$RUN/xlbd.log"
check_start "xlbd starts after the crash" "$RUN/xlb.yaml"
check "it removed what the crashed one left" grep -q 'removed [0-9]* stale rules and routes' \
	"$RUN/xlbd.log"
check "the checks through $B pass again" \
	wait_for 5 field_is "$B:80/tcp" 198.18.0.12 last_check "ok via VIP"
expect_eq "one rule per backend address, as before" "$(xlb_rules)" 5
xlbd_stop
expect_eq "gone at the stop" "$(xlb_rules) $(xlb_routes | wc -l)" "0 0"

tap_end
