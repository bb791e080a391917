#!/usr/bin/env bash
# Health checks through the VIP (health.via: vip): the checker connects to
# the VIP itself, steered to each backend by a socket mark and a policy
# rule. A backend that answers on its own address but lost the VIP from its
# loopback (the DSR black hole) goes down with a "via VIP" reason and takes
# no new connection, where a plain check keeps it up; rules and routes are
# xlb's alone, follow the VIPs and go when xlbd stops. A second xlbd in the
# namespace leaves them alone and refuses via: vip; a reload swapping
# addresses at the cap (8 in the variant build) leaves no check unmarked.
# Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

A=198.18.100.10   # checked via the VIP
B=198.18.100.11   # checked on the backend's address
C=2001:db8:100::10
BASE=$((0x786c0000))
FOREIGN_T=4242

X2=
cleanup() {
	[ -n "$X2" ] && kill "$X2" 2>/dev/null && wait "$X2" 2>/dev/null
	[ -n "${LB:-}" ] && ip netns exec "$LB" "$XLBD" --teardown --bpffs "$PIN-2" >/dev/null 2>&1
	site_down
}
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
# a route someone removed already: its deletion's error is an answer, not something to wait past
tbl=$(for t in $(seq "$BASE" $((BASE + 7))); do
	ip -n "$LB" -4 route show table "$t" proto 120 | grep -q "^$B via 198.18.0.12 " && echo "$t"
done)
ip -n "$LB" route del "$B" table "$tbl" proto 120
check "vip set $B check-via backend, its route already removed by hand" \
	timeout 5 "$XLBCTL" -s "$SOCK" vip set "$B:80/tcp" check-via backend
check "... and xlbd still answers after removing the rest" timeout 5 "$XLBCTL" -s "$SOCK" status
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

scenario "a second xlbd in the namespace (its own --bpffs, --socket, interface)"
check_start "xlbd 1 starts" "$RUN/xlb.yaml"
check "its checks through $B pass" wait_for 5 field_is "$B:80/tcp" 198.18.0.12 last_check "ok via VIP"
check "its 5 rules are in" wait_for 5 xlb_rules_is 5
ip -n "$LB" link add xlbt-cv2a type veth peer name xlbt-cv2b
ip -n "$LB" link set xlbt-cv2a up
ip -n "$LB" link set xlbt-cv2b up
x2conf() { # VIA: xlbd 2's config, its VIP checked via VIA
	cat <<CONF
interfaces: [xlbt-cv2a]
vips:
  - vip: "198.18.101.1:80/tcp"
    health: { check: tcp, via: $1, interval: 300ms, timeout: 200ms }
    backends: [ { address: 198.18.0.11 } ]
CONF
}
x2args=(-c "$RUN/x2.yaml" --bpffs "$PIN-2" --socket "$RUN/x2.sock" --state-dir "$RUN/st2")
ctl2() { "$XLBCTL" -s "$RUN/x2.sock" "$@"; }
x2conf vip >"$RUN/x2.yaml"
held="another xlbd (pid $XLBD_PID) holds the rules of checks via the VIP in this network namespace: one xlbd per namespace has them"
timeout 10 ip netns exec "$LB" "$XLBD" "${x2args[@]}" >"$RUN/x2.log" 2>&1
expect_eq "xlbd 2 with via: vip does not start (exit 1)" "$?" 1
expect_eq "in one line naming the holder" "$(grep -c 'error' "$RUN/x2.log") $(grep -c -F "xlbd: error: $RUN/x2.yaml:3: vips[0].health.via: $held" "$RUN/x2.log")" "1 1"
check "before attaching anything" bash -c "! ls '$PIN-2'/link_* 2>/dev/null"
expect_eq "xlbd 1's rules stay" "$(xlb_rules)" 5
x2conf backend >"$RUN/x2.yaml"
ip netns exec "$LB" "$XLBD" "${x2args[@]}" >"$RUN/x2.log" 2>&1 &
X2=$!
check "xlbd 2 without via: vip starts" wait_for 10 ctl2 status
check "and removes no rule" bash -c "! grep -q 'stale rule' '$RUN/x2.log'"
expect_eq "xlbd 1's rules stay" "$(xlb_rules)" 5
expect_eq "and its routes" "$(xlb_routes | grep -c ' via ')" 5
checks12() { field "$B:80/tcp" 198.18.0.12 checks; }
checks_past() { [ "$(checks12)" -ge "$1" ]; }
fails=$(field "$B:80/tcp" 198.18.0.12 check_failures)
check "xlbd 1 checks be2 through $B 4 times more" wait_for 10 checks_past $(($(checks12) + 4))
expect_eq "none of them failed" "$(field "$B:80/tcp" 198.18.0.12 check_failures)" "$fails"
expect_eq "be2 of $B stays up, checked via the VIP" \
	"$(field "$B:80/tcp" 198.18.0.12 state) $(field "$B:80/tcp" 198.18.0.12 last_check)" "up ok via VIP"
out=$(ctl2 vip add 198.18.101.2:80/tcp check-via vip 2>&1)
expect_eq "xlbd 2: vip add check-via vip is refused" "$out" "xlbctl: check-via: $held"
out=$(ctl2 vip set 198.18.101.1:80/tcp check-via vip 2>&1)
expect_eq "xlbd 2: vip set check-via vip is refused" "$out" "xlbctl: check-via: $held"
x2conf vip >"$RUN/x2.yaml"
out=$(ctl2 reload 2>&1)
expect_eq "xlbd 2: a reload to via: vip is refused" "$out" "xlbctl: $RUN/x2.yaml:3: vips[0].health.via: $held"
expect_eq "and changes nothing" "$(ctl2 -j vip show | jq -r '[.vips[] | .vip + " " + .health.via] | join(",")')" \
	"198.18.101.1:80/tcp backend"
kill "$X2"
wait "$X2"
expect_eq "xlbd 2 stops (exit 0)" "$?" 0
X2=
expect_eq "xlbd 1's rules stay after it" "$(xlb_rules)" 5
check "xlbd 1's checks through $B still pass" wait_for 5 checks_past $(($(checks12) + 2))
expect_eq "none failed" "$(field "$B:80/tcp" 198.18.0.12 check_failures)" "$fails"
# an xlbd without via: vip, started first, does not keep one with them from starting
xlbd_stop
check "xlbd 1's rules go with it" xlb_rules_is 0
x2conf backend >"$RUN/x2.yaml"
ip netns exec "$LB" "$XLBD" "${x2args[@]}" >"$RUN/x2.log" 2>&1 &
X2=$!
check "xlbd 2 without via: vip starts first" wait_for 10 ctl2 status
check_start "then xlbd 1, with via: vip" "$RUN/xlb.yaml"
check "and has its rules" wait_for 10 xlb_rules_is 5
out=$(ctl2 vip add 198.18.101.2:80/tcp check-via vip 2>&1)
expect_eq "xlbd 2 is refused via: vip now, naming the new holder" "$out" "xlbctl: check-via: ${held/pid * holds/pid $XLBD_PID) holds}"
kill "$X2"
wait "$X2"
X2=
# a dry run takes no lock; the lock goes back when the last VIP stops checking via its VIP
xlbd_stop
x2conf backend >"$RUN/x2.yaml"
ip netns exec "$LB" "$XLBD" "${x2args[@]}" >"$RUN/x2.log" 2>&1 &
X2=$!
check "xlbd 2 without via: vip starts, alone" wait_for 10 ctl2 status
x2conf vip >"$RUN/x2.yaml"
check "xlbd 2: reload dry-run to via: vip, the lock free: its diff" \
	bash -c "$XLBCTL -s $RUN/x2.sock reload dry-run | grep -q 'health.via: backend -> vip'"
x2conf backend >"$RUN/x2.yaml"
check_start "xlbd 1 starts after that dry run (it kept no lock)" "$RUN/xlb.yaml"
check "and has its rules" wait_for 10 xlb_rules_is 5
for v in $(ctl -j vip show | jq -r '.vips[] | select(.health.via == "vip") | .vip'); do
	ctl vip set "$v" check-via backend >/dev/null
done
check "xlbd 1 without VIPs checked via the VIP: its rules go" wait_for 10 xlb_rules_is 0
vip_add_via2() { ctl2 vip add 198.18.101.2:80/tcp check-via vip; }
check "and the lock with them: xlbd 2's vip add check-via vip is taken" wait_for 10 vip_add_via2
kill "$X2"
wait "$X2"
X2=
xlbd_stop
ip -n "$LB" link del xlbt-cv2a

scenario "a reload swapping addresses at the cap of 8 (the variant build): no check left unmarked"
ip netns exec "$LB" "$XLBD" --teardown --bpffs "$PIN" >/dev/null 2>&1
rm -rf "$STATE"
A2=198.18.100.12
capconf() { # "A's BACKENDS" "A2's BACKENDS": 198.18.100.10 and .12, tcp checks via the VIP
	local vip list
	echo "interfaces: [eth0]"
	echo "vips:"
	for vip in "$A" "$A2"; do
		list=$1
		shift
		echo "  - vip: \"$vip:80/tcp\""
		echo "    health: { check: tcp, via: vip, interval: 300ms, timeout: 200ms, rise: 1, fall: 1 }"
		echo "    backends: [ $(printf '{ address: %s }, ' $list | sed 's/, $//') ]"
	done
}
# 8 addresses (the cap), then 6: A drops 3 and takes 4 (.12 last), A2 drops 4 and takes 1
capconf "198.18.0.11 198.19.0.1 198.19.0.2 198.19.0.3" "198.19.1.1 198.19.1.2 198.19.1.3 198.19.1.4" \
	>"$RUN/xlb.yaml"
: >"$RUN/xlbd.log"
XLBD=$BUILD/variant/xlbd check_start "the variant xlbd starts with 8 addresses via the VIP" "$RUN/xlb.yaml"
check "be1 of $A up" wait_for 10 field_is "$A:80/tcp" 198.18.0.11 state up
expect_eq "8 marks taken" "$(ctl -j status | jq .check_via.backends)" 8
capconf "198.18.0.11 198.19.2.1 198.19.2.2 198.19.2.3 198.18.0.12" "198.19.3.1" >"$RUN/xlb.yaml"
check "reload: 6 addresses, 4 of them new" ctl reload
check "be2 of $A comes up, checked via the VIP" wait_for 10 field_is "$A:80/tcp" 198.18.0.12 state up
expect_eq "with a mark: ok via VIP" "$(field "$A:80/tcp" 198.18.0.12 last_check)" "ok via VIP"
check "be1 never went down" bash -c "! grep -q 'backend 198.18.0.11 of $A:80/tcp down' '$RUN/xlbd.log'"
check "6 marks taken" wait_for 5 bash -c "[ \"\$('$XLBCTL' -s '$SOCK' -j status | jq .check_via.backends)\" = 6 ]"
check "6 rules" wait_for 5 xlb_rules_is 6
expect_eq "no line per backend about marks" \
	"$(grep -c -e 'marks taken' -e 'routing mark' "$RUN/xlbd.log")" 0
xlbd_stop

tap_end
