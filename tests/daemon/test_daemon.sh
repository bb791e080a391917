#!/usr/bin/env bash
# xlbd and xlbctl on a site of network namespaces: tables, health checks,
# persistence across kill -9, hitless restarts, reload and bad input.
# Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

P=xlbt-d$$-
SIDE_PIDS= # xlbd instances beside the main one (side_start)
FULL_MNT=  # the tmpfs of the full-disk test
cleanup() {
	local pid name
	for pid in $SIDE_PIDS; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for name in hup full; do
		[ -d "${RUN:-/nonexistent}/bpf/$name" ] &&
			ip netns exec "${P}client" "$XLBD" --teardown --bpffs "$RUN/bpf/$name" >/dev/null 2>&1
	done
	[ -n "$FULL_MNT" ] && umount "$FULL_MNT" 2>/dev/null
	site_down
}
trap cleanup EXIT INT TERM

site_up "$P" -n 3 --nginx
LB=${P}lb
V80=198.18.100.10:80/tcp
V443=198.18.100.10:443/tcp
CONF=$RUN/xlb.yaml
cat >"$CONF" <<EOF
interfaces: [eth0]
conntrack: { size: 65536 }
vips:
  - vip: $V80
    health: { check: tcp, interval: 300ms, timeout: 200ms, rise: 2, fall: 2 }
    backends:
      - { address: 198.18.0.11 }
      - { address: 198.18.0.12 }
      - { address: 198.18.0.13, state: drain }
  - vip: $V443
    health: { check: tcp, port: 80, interval: 300ms, timeout: 200ms }
    backends:
      - { address: 198.18.0.11, weight: 10 }
      - { address: 198.18.0.12, weight: 20 }
EOF

states() { # VIP -> "up up drain"
	ctl -j backend show "$1" | jq -r '[.backends[].state] | join(" ")'
}
state_is() { [ "$(states "$1")" = "$2" ]; }
field() { # VIP ADDR FIELD
	ctl -j backend show "$1" | jq -r --arg a "$2" ".backends[] | select(.address == \$a) | .$3"
}
field_is() { [ "$(field "$1" "$2" "$3")" = "$4" ]; }
# after a health change the table follows within the coalescing interval (100 ms)
table() { "$PROBE" table-check "$PIN" "$@"; }
flow() { # SPORT [syn] -> "TX mac"
	ip netns exec "$LB" "$PROBE" flow "$PIN" eth0 198.18.0.1 "$@"
}
flows() { # VIP: the backend of 20 flows, one line
	local p out=
	for p in $(seq 41000 41019); do out="$out $(flow "$p" "$1" | cut -d' ' -f2)"; done
	echo "$out"
}

# ---- start ----
check_start "xlbd starts and serves its socket" "$CONF"
expect_eq "status names the interface and counts" \
	"$(ctl -j status | jq -c '[.interfaces, .vips, .backends, (.prog_id > 0)]')" \
	'[["eth0"],2,5,true]'
version=$(ctl -j status | jq -r .version)
expect_eq "--version: every command prints the build's version, which status and the log name" \
	"$("$XLBD" --version) $("$XLBCTL" --version) $("$BUILD/xlb-decap" --version) $(grep -c "xlbd $version serving" "$RUN/xlbd.log")" \
	"xlbd $version xlbctl $version xlb-decap $version 1"
check "health checks bring the backends up (drain stays drain)" \
	wait_for 10 state_is "$V80" "up up drain"
check "socket is mode 0600" test "$(stat -c %a "$SOCK")" = 600

# ---- tables ----
check "VIP table: the up backends, equal weights" wait_for 2 table "$V80" 198.18.0.11=100 198.18.0.12=100
check "VIP table: weights 10/20" wait_for 2 table "$V443" 198.18.0.11=10 198.18.0.12=20
ctl backend set "$V80" 198.18.0.12 weight 300
check "weight change rebuilds the table" table "$V80" 198.18.0.11=100 198.18.0.12=300
ctl backend set "$V80" 198.18.0.11 disable
check "disable takes a backend out of the table" table "$V80" 198.18.0.12=300
expect_eq "disabled backend shows as disabled" "$(states "$V80")" "disabled up drain"
ctl backend set "$V80" 198.18.0.11 enable
ctl backend set "$V80" 198.18.0.13 undrain
check "enable and undrain put them back" table "$V80" 198.18.0.11=100 198.18.0.12=300 198.18.0.13=100
ctl backend set "$V80" 198.18.0.12 drain
check "drain takes a backend out of the table" table "$V80" 198.18.0.11=100 198.18.0.13=100
ctl backend set "$V80" 198.18.0.12 undrain
ctl backend set "$V80" 198.18.0.12 weight 100
ctl backend set "$V80" 198.18.0.13 drain

# ---- weight 0 drains, as in IPVS ----
flows_at() { # FIRST_PORT VIP: the backend of 20 flows from FIRST_PORT on, one line
	local p out=
	for p in $(seq "$1" $(($1 + 19))); do out="$out $(flow "$p" "$2" | cut -d' ' -f2)"; done
	echo "$out"
}
w0_flows=$(flows_at 43000 "$V80")
mac12=$(field "$V80" 198.18.0.12 mac)
expect_eq "20 flows keep their backends" "$(flows_at 43000 "$V80")" "$w0_flows"
check "some of them are on 198.18.0.12" grep -q -- "$mac12" <<<"$w0_flows"
ctl backend set "$V80" 198.18.0.12 weight 0
expect_eq "backend set ... weight 0: weight 0, state drain, reason weight 0, admin enabled" \
	"$(ctl -j backend show "$V80" | jq -c '.backends[] | select(.address == "198.18.0.12") | [.weight, .state, .reason, .admin]')" \
	'[0,"drain","weight 0","enabled"]'
check "weight 0 takes it out of the table" table "$V80" 198.18.0.11=100
expect_eq "its established flows stay on it" "$(flows_at 43000 "$V80")" "$w0_flows"
new_flows=$(flows_at 44000 "$V80")
check "new flows avoid it" test "${new_flows//$mac12/}" = "$new_flows"
check "the log says why" grep -q "backend 198.18.0.12 of $V80 drain: weight 0" "$RUN/xlbd.log"
out=$(ctl backend set "$V80" 198.18.0.12 undrain 2>&1)
expect_eq "undrain is refused while the weight is 0" "$? $out" \
	"1 xlbctl: weight 0 drains this backend: set a weight above 0 to undrain it"
ctl backend set "$V80" 198.18.0.12 weight 100
expect_eq "a weight above 0 undrains it" "$(field "$V80" 198.18.0.12 state)" up
check "and puts it back in the table" table "$V80" 198.18.0.11=100 198.18.0.12=100
ctl backend set "$V80" 198.18.0.12 drain
ctl backend set "$V80" 198.18.0.12 weight 0
ctl backend set "$V80" 198.18.0.12 weight 100
expect_eq "an explicit drain outlasts weight 0 then 100 (state, admin)" \
	"$(field "$V80" 198.18.0.12 state) $(field "$V80" 198.18.0.12 admin)" "drain drain"
ctl backend set "$V80" 198.18.0.12 undrain
check "undrain lifts it" table "$V80" 198.18.0.11=100 198.18.0.12=100
ctl backend add "$V443" 198.18.0.13 weight 0
check "backend add ... weight 0: in drain once healthy" \
	wait_for 10 field_is "$V443" 198.18.0.13 state drain
check "and never in the table" table "$V443" 198.18.0.11=10 198.18.0.12=20

# ---- health ----
t0=$(date +%s%N)
bash "$TOP/scripts/topo.sh" nginx-stop -p "$P" 2
t_stopped=$(date +%s%N)
check "a backend whose listener stops goes down after fall checks" \
	wait_for 10 field_is "$V80" 198.18.0.12 state down
t1=$(date +%s%N)
echo "# nginx gone after $(((t_stopped - t0) / 1000000)) ms, backend down after $(((t1 - t0) / 1000000)) ms (interval 300ms, fall 2)"
expect_eq "its last check and failure streak" \
	"$(ctl -j backend show "$V80" | jq -c '.backends[] | select(.address == "198.18.0.12") | [.last_check, .fail_streak >= 2, .health]')" \
	'["connect refused",true,"down"]'
check "the log line names backend, VIP, reason and count" \
	grep -q "backend 198.18.0.12 of $V80 down: connect refused (2/2)" "$RUN/xlbd.log"
check "a down backend leaves the table" wait_for 2 table "$V80" 198.18.0.11=100
bash "$TOP/scripts/topo.sh" nginx-start -p "$P" 2
check "and comes back up after rise checks" wait_for 10 field_is "$V80" 198.18.0.12 state up
check "back in the table" wait_for 2 table "$V80" 198.18.0.11=100 198.18.0.12=100

ctl vip add 198.18.100.10:8080/tcp check http /healthz check-port 80 interval 300ms timeout 200ms rise 1 fall 1
ctl backend add 198.18.100.10:8080/tcp 198.18.0.11
check "http check: 200 is up" wait_for 10 field_is 198.18.100.10:8080/tcp 198.18.0.11 state up
touch "$RUN/nginx-be1/unhealthy"
check "http check: 500 marks the backend down" \
	wait_for 10 field_is 198.18.100.10:8080/tcp 198.18.0.11 last_check "HTTP 500"
expect_eq "and down it is" "$(field 198.18.100.10:8080/tcp 198.18.0.11 state)" down
rm -f "$RUN/nginx-be1/unhealthy"
check "http check: healthy again" wait_for 10 field_is 198.18.100.10:8080/tcp 198.18.0.11 state up

# ---- backend MACs: from the neighbour table, followed as they change ----
mac13=$(ip -n "${P}be3" -j link show eth0 | jq -r '.[0].address')
expect_eq "backend MAC comes from the neighbour table" "$(field "$V80" 198.18.0.13 mac)" "$mac13"
ip -n "$LB" neigh replace 198.18.0.13 lladdr 02:00:5e:00:99:13 nud permanent dev eth0
check "a changed neighbour entry is followed" wait_for 5 field_is "$V80" 198.18.0.13 mac 02:00:5e:00:99:13
ip -n "$LB" neigh del 198.18.0.13 dev eth0
check "and resolved again when it goes away" wait_for 10 field_is "$V80" 198.18.0.13 mac "$mac13"
ctl vip add 198.18.100.10:9000/tcp check none
ctl backend add 198.18.100.10:9000/tcp 198.18.0.99
expect_eq "a backend whose MAC is unknown stays out of service, and says why" \
	"$(ctl -j backend show 198.18.100.10:9000/tcp | jq -c '.backends[0] | [.state, .reason]')" \
	'["down","MAC unknown (resolving)"]'
check "the log says why too" \
	grep -q "backend 198.18.0.99 of 198.18.100.10:9000/tcp not in service yet: MAC unknown (resolving)" "$RUN/xlbd.log"
check "its VIP has no backend in its table" table 198.18.100.10:9000/tcp
ctl vip del 198.18.100.10:9000/tcp

# ---- persistence and hitless restart ----
before_flows=$(flows "$V80")
ctl backend set "$V80" 198.18.0.13 undrain # the table changes under established flows
check "table changed under the flows" table "$V80" 198.18.0.11=100 198.18.0.12=100 198.18.0.13=100
expect_eq "established flows keep their backends across a table change" "$(flows "$V80")" "$before_flows"
ctl backend set "$V80" 198.18.0.12 weight 70
ctl backend set "$V80" 198.18.0.13 drain
check "a wrr VIP with persist is added" \
	ctl vip add 198.18.100.30:80/tcp sched wrr persist 90s persist-prefix-v4 24
expect_eq "vip show has its scheduler and persist" \
	"$(ctl -j vip show 198.18.100.30:80/tcp | jq -c '.vips[0] | [.sched, .persist, .persist_prefix_v4, .persist_prefix_v6]')" \
	'["wrr","90s",24,64]'
view_before=$(backend_view)
vips_before=$(ctl -j vip show | jq -c '[.vips[] | {vip, sched, forward, health, backends, persist, persist_prefix_v4, persist_prefix_v6}]')
ct_before=$("$PROBE" ct-count "$PIN")
old_pid=$XLBD_PID
xlbd_stop KILL
check "the killed xlbd is gone" bash -c "! kill -0 $old_pid 2>/dev/null"
expect_eq "after kill -9 the data plane still forwards the flows" "$(flows "$V80")" "$before_flows"
check_start "xlbd restarts" "$CONF"
check "restart adopts the running program" grep -q "adopted the running XDP on eth0" "$RUN/xlbd.log"
check "backends settle" wait_for 10 state_is "$V80" "up up drain"
check "a weight-0 backend is back in drain (state.json)" \
	wait_for 10 field_is "$V443" 198.18.0.13 state drain
expect_eq "every VIP, backend, weight and drain state is back" "$(backend_view)" "$view_before"
expect_eq "VIP settings are back, schedulers and persist too" \
	"$(ctl -j vip show | jq -c '[.vips[] | {vip, sched, forward, health, backends, persist, persist_prefix_v4, persist_prefix_v6}]')" "$vips_before"
check "the data plane has the persist VIP's settings" \
	bash -c "$(printf '%q ' "$XLBCTL" -s "$SOCK") -j explain 198.18.0.1:4000 198.18.100.30:80/tcp syn |
		jq -e '.sched.persist.timeout_ms >= 90000 and .sched.name == \"wrr\"'"
ctl vip del 198.18.100.30:80/tcp
expect_eq "the connection table kept its entries" "$("$PROBE" ct-count "$PIN")" "$ct_before"
expect_eq "running flows kept their backends across the restart" "$(flows "$V80")" "$before_flows"
ctl backend del "$V443" 198.18.0.13 # the reload tests below want the file's VIPs

xlbd_stop TERM
check "SIGTERM: the log says the data plane keeps forwarding" \
	grep -q "exiting; the data plane keeps forwarding with the last tables" "$RUN/xlbd.log"
expect_eq "SIGTERM: flows still forwarded" "$(flows "$V80")" "$before_flows"
# under systemd (Type=notify): READY=1 once serving, STOPPING=1 on the way out
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a") as out:
    for _ in range(16):
        try:
            msg = s.recv(4096)
        except socket.timeout:
            break
        out.write(msg.decode() + "\n")
        out.flush()
' "$RUN/notify.sock" "$RUN/notify.out" &
notify_pid=$!
SIDE_PIDS="$SIDE_PIDS $notify_pid"
wait_for 5 test -S "$RUN/notify.sock"
NOTIFY_SOCKET=$RUN/notify.sock check_start "xlbd restarts after SIGTERM" "$CONF"
check "sd_notify: READY=1 once the socket answers" wait_for 5 grep -qx READY=1 "$RUN/notify.out"
xlbd_stop TERM
check "sd_notify: STOPPING=1 on SIGTERM" wait_for 5 grep -qx STOPPING=1 "$RUN/notify.out"
kill "$notify_pid" 2>/dev/null
wait "$notify_pid" 2>/dev/null
check_start "xlbd starts again" "$CONF"

# ---- bad input: each gets its message and exit code, state unchanged ----
view_before=$(backend_view)
vips_before=$(ctl -j vip show | jq -c '[.vips[] | {vip, sched, forward, health}]')
bad() { # EXIT MESSAGE ARGS...
	local want_rc=$1 want=$2 out rc
	shift 2
	out=$(ctl "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = "$want_rc" ] && [ "$out" = "$want" ]; then
		ok "bad input: xlbctl $*"
	else
		not_ok "bad input: xlbctl $*" "got:  rc=$rc $out" "want: rc=$want_rc $want"
	fi
}
bad 2 "xlbctl: invalid VIP '192.0.2.300:80/tcp': bad IPv4 address" vip add 192.0.2.300:80/tcp
bad 2 "xlbctl: invalid VIP '198.18.100.10:80': missing protocol" vip add 198.18.100.10:80
bad 2 "xlbctl: invalid VIP '198.18.100.10/tcp': missing port" vip add 198.18.100.10/tcp
bad 2 "xlbctl: invalid VIP '198.18.100.10:65536/tcp': bad port" vip add 198.18.100.10:65536/tcp
bad 2 "xlbctl: invalid VIP '198.18.100.10:80/sctp': bad protocol (tcp or udp)" vip add 198.18.100.10:80/sctp
bad 2 "xlbctl: invalid VIP '2001:db8::10:80/tcp': IPv6 address needs brackets" vip add 2001:db8::10:80/tcp
bad 2 "xlbctl: invalid VIP '[2001:db8::zz]:80/tcp': bad IPv6 address" vip add "[2001:db8::zz]:80/tcp"
bad 2 "xlbctl: missing VIP" vip add
bad 2 "xlbctl: unknown object 'foo'" foo show
bad 2 "xlbctl: unknown verb 'frob' for 'vip'" vip frob
bad 2 "xlbctl: unknown keyword 'foo' for 'vip add'" vip add 198.18.100.20:80/tcp foo bar
bad 2 "xlbctl: 'vip add': duplicate keyword 'sched'" vip add 198.18.100.20:80/tcp sched maglev sched maglev
bad 2 "xlbctl: sched: bad scheduler (maglev, source-hash, rr, wrr, lc, wlc or lt)" vip add 198.18.100.20:80/tcp sched random
bad 2 "xlbctl: forward: bad forwarding mode (l2dsr, ipip)" vip add 198.18.100.20:80/tcp forward nat
bad 2 "xlbctl: interval: bad duration (e.g. 2s, 500ms)" vip add 198.18.100.20:80/tcp interval 5
bad 2 "xlbctl: rise: out of range (1..100)" vip add 198.18.100.20:80/tcp rise 0
bad 2 "xlbctl: check-port: out of range (1..65535)" vip add 198.18.100.20:80/tcp check-port 70000
bad 2 "xlbctl: 'vip show': unexpected argument 'x'" vip show "$V80" x
bad 2 "xlbctl: invalid address '198.18.0.300': bad IPv4 address" backend add "$V80" 198.18.0.300
bad 2 "xlbctl: weight: out of range (0..65535)" backend add "$V80" 198.18.0.20 weight 65536
bad 2 "xlbctl: weight: not a number" backend add "$V80" 198.18.0.20 weight ten
bad 2 "xlbctl: 'backend set': missing weight value" backend set "$V80" 198.18.0.11 weight
bad 2 "xlbctl: missing address" backend del "$V80"
bad 1 "xlbctl: VIP already exists" vip add "$V80"
bad 1 "xlbctl: no such VIP" vip del 198.18.100.99:80/tcp
bad 1 "xlbctl: no such VIP" backend add 198.18.100.99:80/tcp 198.18.0.11
bad 1 "xlbctl: backend already exists" backend add "$V80" 198.18.0.11
bad 1 "xlbctl: no such backend" backend del "$V80" 198.18.0.99
bad 1 "xlbctl: no such backend" backend set "$V80" 198.18.0.99 drain
bad 1 "xlbctl: IPv6 backend for an IPv4 VIP (only forward ipip carries one)" backend add "$V80" 2001:db8::11
bad 1 "xlbctl: no such VIP" backend show 198.18.100.99:80/tcp
# forward ipip, with no encap_source in this config: refused at vip add, not at the first backend
bad 1 "xlbctl: forward ipip needs encap_source.ipv4 or encap_source.ipv6 in $CONF" \
	vip add 198.18.100.40:80/tcp forward ipip check none
bad 3 "xlbctl: daemon not running (connect $RUN/none.sock: No such file or directory)" \
	-s "$RUN/none.sock" status
out=$(ctl -j vip del 198.18.100.99:80/tcp 2>&1 >/dev/null)
expect_eq "-j: errors are JSON" "$out" '{"error":"no such VIP"}'
expect_eq "bad input left the backends unchanged" "$(backend_view)" "$view_before"
expect_eq "bad input left the VIPs unchanged" \
	"$(ctl -j vip show | jq -c '[.vips[] | {vip, sched, forward, health}]')" "$vips_before"

# ---- the socket itself ----
raw() { socat -t 5 - "UNIX-CONNECT:$SOCK"; }
expect_eq "malformed JSON gets an error reply" "$(printf 'not json\n' | raw)" \
	'{"ok":false,"error":"malformed JSON"}'
expect_eq "a non-object request" "$(printf '[1,2]\n' | raw)" \
	'{"ok":false,"error":"request must be a JSON object"}'
expect_eq "an unknown command" "$(printf '{"cmd":"frob"}\n' | raw)" \
	'{"ok":false,"error":"unknown command '"'"'frob'"'"'"}'
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
expect_eq "an oversized line is refused, and the connection goes on" \
	"$(printf '%s\n{"cmd":"status"}\n' "$big" | raw | jq -r '.error // .ok' | tr '\n' ' ')" \
	"request too long true "
chmod 666 "$SOCK"
expect_eq "a non-root peer is refused" \
	"$(printf '{"cmd":"status"}\n' | setpriv --reuid=65534 --regid=65534 --clear-groups socat -t 5 - "UNIX-CONNECT:$SOCK")" \
	'{"ok":false,"error":"permission denied: root only"}'
chmod 600 "$SOCK"
# xlbctl checks durations itself: only a raw request reaches xlbd's parser
expect_eq "a malformed interval gets the parser's message" \
	"$(printf '{"cmd":"vip-add","vip":"198.18.100.20:80/tcp","interval":"5"}\n' | raw)" \
	'{"ok":false,"error":"interval: bad duration (e.g. 2s, 500ms)"}'
expect_eq "a malformed timeout gets the parser's message" \
	"$(printf '{"cmd":"vip-add","vip":"198.18.100.20:80/tcp","timeout":"soon"}\n' | raw)" \
	'{"ok":false,"error":"timeout: bad duration (e.g. 2s, 500ms)"}'
expect_eq "a duration over 1h is refused as such" \
	"$(printf '{"cmd":"vip-add","vip":"198.18.100.20:80/tcp","interval":"2h"}\n' | raw)" \
	'{"ok":false,"error":"interval: at most 1h"}'
client() { python3 "$(dirname "$0")/ctl_client.py" "$@"; }
# 2000 replies fill the socket buffer: output stays pending after the client's EOF
out=$(client halfclose "$SOCK" "$XLBD_PID" 2000)
cpu=$(echo "$out" | awk '{print $2}')
check "a half-closed client that reads late costs xlbd no CPU (${cpu}s in 2s)" \
	awk -v c="$cpu" 'BEGIN { exit !(c != "" && c < 0.3) }'
expect_eq "and gets every reply when it reads" "$(echo "$out" | awk '{print $4}')" 2000
out=$(client idle "$SOCK" 12)
check "a silent client is closed after the idle timeout, a busy one still served ($out)" \
	awk -v o="$out" 'BEGIN { split(o, f, " "); exit !(f[2] != "never" && f[2] >= 4.5 && f[4] == "yes") }'
check "the daemon still serves" ctl status
# more idle connections than the table holds: the one idle longest makes room
out=$(client crowd "$SOCK" 70 "$XLBCTL" -s "$SOCK" status)
check "70 idle connections: each is served, and xlbctl still answers at once ($out)" \
	awk -v o="$out" 'BEGIN { split(o, f, " "); exit !(f[2] == 70 && f[4] == "0" && f[6] < 2) }'
check "the log says a connection made room" \
	grep -q "64 control connections: closed the one idle longest for a new one" "$RUN/xlbd.log"
expect_eq "a request typed a byte at a time over 7 s is still answered" \
	"$(client trickle "$SOCK" 7)" "served yes"
chmod 666 "$SOCK"
expect_eq "70 non-root connections make room from their own kind, not a root client's" \
	"$(client evict "$SOCK" 70)" "served yes"
chmod 600 "$SOCK"

# ---- config file errors and reload ----
bad_conf=$RUN/bad.yaml
printf 'vips:\n  - vip: 198.18.100.10:80/tcp\n    backends:\n      - { address: 198.18.0.300 }\n' >"$bad_conf"
out=$(ip netns exec "$LB" "$XLBD" -c "$bad_conf" --bpffs "$RUN/bpf/other" --socket "$RUN/other.sock" \
	--state-dir "$RUN/other" 2>&1)
rc=$?
expect_eq "an invalid config is refused at start, with file:line" \
	"$rc $(echo "$out" | tail -1 | untimed)" \
	"1 xlbd: error: $bad_conf:4: vips[0].backends[0].address: bad IPv4 address '198.18.0.300'"
cp "$CONF" "$RUN/good.yaml"
cp "$bad_conf" "$CONF"
view_before=$(backend_view)
out=$(ctl reload 2>&1)
rc=$?
expect_eq "reload of an invalid config is refused" "$rc $out" \
	"1 xlbctl: $CONF:4: vips[0].backends[0].address: bad IPv4 address '198.18.0.300'"
expect_eq "and the running state is unchanged" "$(backend_view)" "$view_before"
cp "$RUN/good.yaml" "$CONF"

id443=$("$PROBE" table-id "$PIN" "$V443")
rebuilds=$(ctl -j status | jq '.table_rebuilds')
cat >"$CONF" <<EOF
interfaces: [eth0]
conntrack: { size: 65536 }
vips:
  - vip: $V80
    health: { check: tcp, interval: 300ms, timeout: 200ms, rise: 2, fall: 2 }
    backends:
      - { address: 198.18.0.11, weight: 50 }
      - { address: 198.18.0.12 }
  - vip: $V443
    health: { check: tcp, port: 80, interval: 300ms, timeout: 200ms }
    backends:
      - { address: 198.18.0.11, weight: 10 }
      - { address: 198.18.0.12, weight: 20 }
  - vip: 198.18.100.11:80/tcp
    health: { check: none }
    backends:
      - { address: 198.18.0.13 }
EOF
expect_eq "reload reports what it added, changed and removed" \
	"$(ctl -j reload | jq -c '[.added, .changed, .removed]')" \
	'[["198.18.100.11:80/tcp","backend 198.18.0.13 of 198.18.100.11:80/tcp"],["backend 198.18.0.11 of 198.18.100.10:80/tcp","backend 198.18.0.12 of 198.18.100.10:80/tcp"],["198.18.100.10:8080/tcp","backend 198.18.0.13 of 198.18.100.10:80/tcp"]]'
expect_eq "an unchanged VIP keeps its table" "$("$PROBE" table-id "$PIN" "$V443")" "$id443"
check "a changed VIP's table is rewritten (in place)" test "$(ctl -j status | jq '.table_rebuilds')" -gt "$rebuilds"
check "which holds the new weights" table "$V80" 198.18.0.11=50 198.18.0.12=100
check "the new VIP is served" wait_for 10 state_is 198.18.100.11:80/tcp up
kill -HUP "$XLBD_PID"
check "SIGHUP reloads too" wait_for 5 grep -q "SIGHUP: reloading" "$RUN/xlbd.log"

# ---- what wins at start: the file, if its content changed while xlbd was down ----
ctl backend set "$V80" 198.18.0.11 weight 77
applied_at=$(jq -r .config_applied_at "$STATE/state.json")
check "state.json says when the file was applied" \
	grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' <<<"$applied_at"
xlbd_stop TERM
# a comment, blank lines and other indentation: the same content
cp "$CONF" "$RUN/conf.before"
sed -i '1i # edited by hand: only a comment\n' "$CONF"
sed -i 's/^  - vip:/  -   vip:/; s/^\(  \)\(  [a-z]\)/\1  \2/' "$CONF"
check_start "xlbd starts after a comment-only edit" "$CONF"
check "it says the content is the same, and since when" \
	grep -q "$CONF: same content as when applied at $applied_at (edits to comments or layout are none): the saved runtime state stays" "$RUN/xlbd.log"
expect_eq "the runtime change survives a comment-only edit" "$(field "$V80" 198.18.0.11 weight)" 77
cp "$RUN/conf.before" "$CONF"
flows_now=$(flows "$V80")
xlbd_stop TERM
sed -i 's/conntrack: { size: 65536 }/conntrack: { size: 65536, udp_idle: 31s }/' "$CONF"
check_start "xlbd starts with a config edited while it was down" "$CONF"
check "it says the file wins, when it was applied and changed, and where the old state went" \
	grep -qE "$CONF changed since it was applied at $applied_at \(seen now, at start; the file's last write [0-9T:Z-]+\): it wins over the saved runtime state, which is kept in $STATE/state.json.prev" "$RUN/xlbd.log"
expect_eq "the file's weight wins" "$(field "$V80" 198.18.0.11 weight)" 50
expect_eq "the runtime change is kept aside, not lost" \
	"$(jq -r '.vips[] | select(.vip == "'"$V80"'") | .backends[] | select(.address == "198.18.0.11") | .weight' "$STATE/state.json.prev")" 77
check "new load-time settings replace the program atomically" \
	grep -q "replaced the running XDP on eth0" "$RUN/xlbd.log"
expect_eq "flows keep their backends across the replace" "$(flows "$V80")" "$flows_now"

# ---- adoption when the state changed: other backends keep ids, tables, flows ----
ids() { ctl -j backend show | jq -c '[.backends[] | select(.state != "disabled") | [.vip, .address, .id]]'; }
flows443() { # 20 flows to the 443 VIP, their backends
	local p out=
	for p in $(seq 42000 42019); do out="$out $(flow "$p" "$V443" | cut -d' ' -f2)"; done
	echo "$out"
}
flows80=$(flows "$V80") f443=$(flows443)
ctl backend add "$V80" 198.18.0.13
ctl backend set "$V80" 198.18.0.13 disable
ids_before=$(ids)
xlbd_stop TERM
check_start "restart with a disabled backend added last to the first VIP" "$CONF"
check "backends settle" wait_for 10 bash -c "[ \"\$($XLBCTL -s $SOCK -j backend show $V80 | jq -r '[.backends[].state] | join(\" \")')\" = 'up up disabled' ]"
expect_eq "every other backend kept its id" "$(ids)" "$ids_before"
expect_eq "flows of the first VIP kept their backends" "$(flows "$V80")" "$flows80"
expect_eq "flows of the next VIP kept their backends" "$(flows443)" "$f443"
check "the next VIP's table is as it was" table "$V443" 198.18.0.11=10 198.18.0.12=20
ids_before=$(ids)
xlbd_stop TERM
sed -i 's|^vips:$|vips:\n  - vip: 198.18.100.12:80/tcp\n    health: { check: none }\n    backends: [ { address: 198.18.0.11 } ]|' "$CONF"
check_start "restart with a new VIP at the top of the file" "$CONF"
check "the new VIP comes up" wait_for 10 bash -c "[ \"\$($XLBCTL -s $SOCK -j backend show 198.18.100.12:80/tcp | jq -r '.backends[0].state')\" = up ]"
expect_eq "the old VIPs' flows kept their backends" "$(flows "$V80") $(flows443)" "$flows80 $f443"
check "the old VIPs' tables are as they were" table "$V443" 198.18.0.11=10 198.18.0.12=20
expect_eq "the old VIPs' backends kept their ids" \
	"$(ids | jq -c '[.[] | select(.[0] != "198.18.100.12:80/tcp")]')" "$ids_before"

# ---- an interface dropped from the config is detached at the next start ----
ip -n "$LB" link add xlbt-x0 type veth peer name xlbt-x1
ip -n "$LB" link set xlbt-x0 up
ip -n "$LB" link set xlbt-x1 up
xlbd_stop TERM
check_start "xlbd starts on two interfaces" "$CONF" -i eth0 -i xlbt-x0
check "both have XDP" bash -c "ip -n $LB link show xlbt-x0 | grep -q xdp && test -e $PIN/link_xlbt-x0"
xlbd_stop TERM
check_start "and restarts on one" "$CONF" -i eth0
check "the dropped interface no longer runs XDP" bash -c "! ip -n $LB link show xlbt-x0 | grep -q xdp"
check "and its link is unpinned" test ! -e "$PIN/link_xlbt-x0"
expect_eq "the kept interface still forwards" "$(flows "$V80")" "$flows80"

# ---- command prefixes, and native XDP where the driver has none ----
expect_eq "unique prefixes work (xlbctl b s)" "$(ctl b s "$V80")" "$(ctl backend show "$V80")"
out=$(ip netns exec "$LB" "$XLBD" -c "$CONF" -i lo --bpffs "$RUN/bpf/lo" --socket "$RUN/lo.sock" \
	--state-dir "$RUN/lo" 2>&1)
expect_eq "native XDP on a driver without it fails and names --xdp-mode generic" \
	"$? $(echo "$out" | untimed | grep error)" \
	"1 xlbd: error: interface lo: driver cannot run XDP natively; use --xdp-mode generic (slower)"
check "... and leaves nothing pinned" test ! -e "$RUN/bpf/lo"

# ---- a second instance, side by side ----
ip netns exec "${P}client" "$XLBD" -c "$RUN/good.yaml" -i eth0 --bpffs "$RUN/bpf/second" \
	--socket "$RUN/second.sock" --state-dir "$RUN/second" >>"$RUN/second.log" 2>&1 &
second=$!
echo "$second" >"$RUN/second.pid"
check "a second xlbd runs beside the first" wait_for 10 "$XLBCTL" -s "$RUN/second.sock" status
check "and the first still answers" ctl status
kill "$second"
wait "$second" 2>/dev/null
ip netns exec "${P}client" "$XLBD" --teardown --bpffs "$RUN/bpf/second" >/dev/null 2>&1

# ---- instances beside the main one: in the client namespace, on its eth0 ----
side_start() { # NAME CONFIG [options]: start in the background; sets SIDE_PID
	local name=$1 conf=$2
	shift 2
	ip netns exec "${P}client" "$XLBD" -c "$conf" -i eth0 --bpffs "$RUN/bpf/$name" \
		--socket "$RUN/$name.sock" --state-dir "$RUN/$name" "$@" >>"$RUN/$name.log" 2>&1 &
	SIDE_PID=$!
	SIDE_PIDS="$SIDE_PIDS $SIDE_PID"
}
side_stop() {
	kill "$SIDE_PID" 2>/dev/null
	wait "$SIDE_PID" 2>/dev/null
}

# ---- SIGHUP while starting (systemctl reload right after start) ----
big=$RUN/big.yaml
{
	echo "interfaces: [eth0]"
	echo "vips:"
	for i in $(seq 1 50); do
		printf '  - vip: 198.18.101.%d:80/tcp\n    health: { check: none }\n    backends:\n' "$i"
		for j in $(seq 101 120); do echo "      - { address: 198.18.0.$j }"; done
	done
} >"$big"
side_start hup "$big"
hup_pid=$SIDE_PID
# Nothing can guard a process before its main runs: start once HUP is
# blocked, or (the code before the fix blocked it only when serving) once
# the data plane is attached, when 1000 backends are still to be applied.
hup_ready() {
	local m
	m=$(awk '/^SigBlk/ { print $2 }' "/proc/$hup_pid/status" 2>/dev/null)
	{ [ -n "$m" ] && (((0x$m & 1) == 1)); } || grep -q "XDP on eth0" "$RUN/hup.log"
}
for i in $(seq 1 1000); do # at most 10 s
	hup_ready && break
	sleep 0.01
done
sent=0
for i in $(seq 1 200); do # a HUP every 50 ms until the socket is there, at most 10 s
	[ -S "$RUN/hup.sock" ] && break
	kill -HUP "$hup_pid" 2>/dev/null || break
	sent=$((sent + 1))
	sleep 0.05
done
check "HUPs while starting ($sent sent): xlbd comes up" \
	wait_for 20 "$XLBCTL" -s "$RUN/hup.sock" status
check "and is still running" kill -0 "$hup_pid"
expect_eq "they make one reload, once serving" \
	"$(grep -E -o "serving $RUN/hup.sock|SIGHUP during start-up: reloading $big now that xlbd serves|reloaded $big" "$RUN/hup.log" | head -3 | tr '\n' '|')" \
	"serving $RUN/hup.sock|SIGHUP during start-up: reloading $big now that xlbd serves|reloaded $big|"
expect_eq "just one" "$(grep -c "SIGHUP during start-up" "$RUN/hup.log")" 1
side_stop
: >"$RUN/hup.log" # hup_ready reads it
side_start hup "$big"
hup_pid=$SIDE_PID
for i in $(seq 1 1000); do # at most 10 s
	hup_ready && break
	sleep 0.01
done
kill -TERM "$hup_pid"
check "TERM while starting: xlbd exits" wait_for 20 bash -c "! kill -0 $hup_pid 2>/dev/null"
wait "$hup_pid"
expect_eq "cleanly, and says so" "$? $(grep -cE 'Terminated during start-up: exiting|exiting before attaching' "$RUN/hup.log")" "0 1"
ip netns exec "${P}client" "$XLBD" --teardown --bpffs "$RUN/bpf/hup" >/dev/null 2>&1

# ---- the state folder full: every saving change refused, nothing changes ----
FULL_MNT=$RUN/full
mkdir -p "$FULL_MNT"
mount -t tmpfs -o size=64k,mode=0700 xlbt-full "$FULL_MNT"
small=$RUN/small.yaml
VF=198.18.103.10:80/tcp
cat >"$small" <<EOF
interfaces: [eth0]
vips:
  - vip: $VF
    health: { check: none }
    backends:
      - { address: 198.18.0.201 }
      - { address: 198.18.0.202, weight: 50 }
EOF
# static neighbours put the backends in service: their table can be checked
ip -n "${P}client" neigh replace 198.18.0.201 lladdr 02:00:5e:00:98:01 nud permanent dev eth0
ip -n "${P}client" neigh replace 198.18.0.202 lladdr 02:00:5e:00:98:02 nud permanent dev eth0
fctl() { "$XLBCTL" -s "$RUN/full.sock" "$@"; }
ftable() { "$PROBE" table-check "$RUN/bpf/full" "$VF" 198.18.0.201=100 198.18.0.202=50; }
fview() {
	fctl -j vip show | jq -c '[.vips[] | {vip, sched, forward, health, backends}]'
	fctl -j backend show | jq -c '[.backends[] | {vip, address, weight, admin, state, id}]'
}
side_start full "$small"
check "xlbd starts with its state on a 64k tmpfs" wait_for 10 fctl status
check "its backends are in service" wait_for 10 ftable
cp "$FULL_MNT/state.json" "$RUN/state.before"
head -c 1M /dev/zero >"$FULL_MNT/filler" 2>/dev/null
view=$(fview)
msg="xlbctl: cannot save the runtime state to $FULL_MNT/state.json: No space left on device; nothing changed"
unsaved() { # ARGS...: refused with the message and exit 1; nothing changed
	local out rc
	out=$(fctl "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc $out" = "1 $msg" ] && [ "$(fview)" = "$view" ] && ftable >/dev/null 2>&1; then
		ok "disk full: xlbctl $* is refused; state and table unchanged"
	else
		not_ok "disk full: xlbctl $* is refused; state and table unchanged" \
			"got:  rc=$rc $out" "want: rc=1 $msg" "view: $(fview | tr '\n' ' ')" \
			"was:  $(echo "$view" | tr '\n' ' ')" "table: $(ftable 2>&1 | head -3)"
	fi
}
unsaved vip add 198.18.103.11:80/tcp
unsaved vip del "$VF"
unsaved backend add "$VF" 198.18.0.203
unsaved backend del "$VF" 198.18.0.202
unsaved backend set "$VF" 198.18.0.201 weight 7
unsaved backend set "$VF" 198.18.0.201 drain
unsaved backend set "$VF" 198.18.0.202 disable
check "the saved state is whole and as it was" cmp "$RUN/state.before" "$FULL_MNT/state.json"
check "and no temporary file is left" test ! -e "$FULL_MNT/state.json.tmp"
out=$(fctl reload 2>&1)
expect_eq "a reload stays applied, and says it is not saved" "$? $out" \
	"1 xlbctl: reload applied, but cannot save the runtime state to $FULL_MNT/state.json: No space left on device"
rm "$FULL_MNT/filler"
check "with room again, a change is saved" fctl backend add "$VF" 198.18.0.203
check "and another" fctl backend set "$VF" 198.18.0.201 weight 7
side_stop
side_start full "$small"
check "xlbd restarts" wait_for 10 fctl status
expect_eq "after a restart exactly the saved changes are there" \
	"$(fctl -j backend show | jq -c '[.backends[] | [.address, .weight, .admin]]')" \
	'[["198.18.0.201",7,"enabled"],["198.18.0.202",50,"enabled"],["198.18.0.203",100,"enabled"]]'
expect_eq "and no other VIP" "$(fctl -j vip show | jq -c '[.vips[].vip]')" "[\"$VF\"]"
side_stop
ip netns exec "${P}client" "$XLBD" --teardown --bpffs "$RUN/bpf/full" >/dev/null 2>&1
umount "$FULL_MNT" && FULL_MNT=

# ---- a failed start leaves nothing pinned; one over a running data plane leaves it ----
xlbd_stop TERM
ip netns exec "$LB" "$XLBD" --teardown --bpffs "$PIN" >/dev/null 2>&1
FAIL_PIN=$RUN/bpf/failed
# fail_start DESC ARGS...: xlbd exits 1 at start on a fresh --bpffs
fail_start() {
	local desc=$1 rc
	shift
	timeout 20 ip netns exec "$LB" "$XLBD" -c "$CONF" --bpffs "$FAIL_PIN" --socket "$RUN/failed.sock" \
		--state-dir "$RUN/failed-state" "$@" >"$RUN/failed.log" 2>&1
	rc=$?
	expect_eq "$desc: exit 1" "$rc" 1
	check "... the log says what it undid" grep -q \
		"start failed: detached and unpinned what it had made under $FAIL_PIN" "$RUN/failed.log"
	check "... nothing pinned" test ! -e "$FAIL_PIN"
	check "... no XDP left on eth0" bash -c "! ip -n $LB link show eth0 | grep -q xdp"
}
fail_start "a second interface that does not exist" -i eth0 -i xlbtnosuch0
ip netns exec "$LB" python3 -c 'import socket,time,sys
s=socket.socket(); s.bind(("198.18.0.2", 9177)); s.listen(1); print("bound", flush=True); sys.stdin.read()' \
	< <(sleep 30) >"$RUN/hold.out" 2>&1 &
HOLD_PID=$!
wait_for 5 grep -q bound "$RUN/hold.out"
fail_start "the metrics port taken (the last step of a start)" -i eth0 --metrics 198.18.0.2:9177
kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null
# the folder locked by another daemon (here flock(1)) while still empty: refused, nothing undone
mkdir -p "$FAIL_PIN"
flock "$FAIL_PIN" sleep 30 &
LOCK_PID=$!
wait_for 5 grep -q "$(stat -c %i "$FAIL_PIN")" /proc/locks
out=$(timeout 20 ip netns exec "$LB" "$XLBD" -c "$CONF" --bpffs "$FAIL_PIN" --socket "$RUN/failed.sock" \
	--state-dir "$RUN/failed-state" -i eth0 2>&1)
expect_eq "a folder another daemon holds, still empty: refused with its pid, nothing undone" \
	"$? $(untimed <<<"$out" | grep -v 'xlbd: info: .*same content')" \
	"1 xlbd: error: another xlbd (pid $LOCK_PID) serves the data plane pinned in $FAIL_PIN: one daemon per data plane"
kill "$LOCK_PID" 2>/dev/null; wait "$LOCK_PID" 2>/dev/null
rmdir "$FAIL_PIN"
check_start "xlbd starts again, on a fresh --bpffs" "$CONF"
pins_before=$(ls "$PIN" | sort | tr '\n' ' ')
xlbd_stop TERM
out=$(timeout 20 ip netns exec "$LB" "$XLBD" -c "$CONF" --bpffs "$PIN" --socket "$SOCK" \
	--state-dir "$STATE" -i eth0 -i xlbtnosuch0 2>&1)
expect_eq "a failed start over a data plane: exit 1" "$?" 1
expect_eq "... which stays pinned, as it was" "$(ls "$PIN" | sort | tr '\n' ' ')" "$pins_before"
check "... and attached" bash -c "ip -n $LB link show eth0 | grep -q xdp"
check_start "and the next start adopts it" "$CONF"

# ---- teardown ----
xlbd_stop TERM
check "--teardown detaches and unpins" ip netns exec "$LB" "$XLBD" --teardown --bpffs "$PIN"
check "no XDP left on the interface" bash -c "! ip -n $LB link show eth0 | grep -q xdp"
check "no pins left" test ! -e "$PIN"

tap_end
