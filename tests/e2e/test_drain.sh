#!/usr/bin/env bash
# Drain completion end to end (issue 13): a slow download through the VIP
# lands on a backend, which is then drained. While the download runs,
# `backend wait ... drained` times out (exit 4) and backend show says the
# drain is not done; new connections go elsewhere; the download completes
# intact; then the wait returns 0 within a walk period or two, and backend
# show says drained. A wait on a backend that is not draining, or on one
# or a VIP that does not exist, fails at once. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

V4=198.18.100.10
VIP=$V4:80/tcp
SIZE=$((2048 * 1024)) # /slow at 256 KiB/s: about 8 s, the drain's checks run meanwhile
DL_PID=
cleanup() {
	[ -n "$DL_PID" ] && kill "$DL_PID" 2>/dev/null && wait "$DL_PID" 2>/dev/null
	site_down
}
trap cleanup EXIT INT TERM

site_up "xlbt-d$$-" -n 3 --nginx
CLIENT=${SITE}client
cat >"$RUN/xlb.yaml" <<CONF
interfaces: [eth0]
conntrack: { size: 65536 }
vips:
  - vip: "$VIP"
    health: { check: http, path: /healthz, interval: 500ms, timeout: 300ms, rise: 2, fall: 2 }
    backends: [ { address: 198.18.0.11 }, { address: 198.18.0.12 }, { address: 198.18.0.13 } ]
CONF
# random bytes, the same on every backend: a download that moved would be cut or garbled
head -c "$SIZE" /dev/urandom >"$RUN/slow.bin"
want_sum=$(sha256sum <"$RUN/slow.bin" | cut -d' ' -f1)
for i in 1 2 3; do cp "$RUN/slow.bin" "$RUN/nginx-be$i/www/slow"; done

all_up() { [ "$(ctl -j backend show "$VIP" | jq '[.backends[] | select(.state == "up")] | length')" = 3 ]; }
field() { # ADDR KEY: that backend's member in backend show -j
	ctl -j backend show "$VIP" | jq -c --arg a "$1" ".backends[] | select(.address == \$a) | .$2"
}
ss_of() { # N: connections established to the VIP on backend N
	ip netns exec "${SITE}be$1" ss -Htn state established src "$V4:80" | wc -l
}
# run_ctl ARGS...: xlbctl's exit code, stderr and time taken, in RC, ERR and MS
run_ctl() {
	local t0
	t0=$(date +%s%N)
	ERR=$("$XLBCTL" -s "$SOCK" "$@" 2>&1 >"$RUN/ctl.out")
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
}
# get N: N requests on new connections, the answering backend's name each
get() {
	local args=() i
	for i in $(seq 1 "$1"); do args+=(-o /dev/stdout "http://$V4/"); done
	ip netns exec "$CLIENT" curl -s -m 5 -H 'Connection: close' "${args[@]}" | awk '{print $2}'
}

check_start "xlbd starts" "$RUN/xlb.yaml"
check "backends up" wait_for 15 all_up
check "the first walk of the connection tables is complete" \
	wait_for 5 bash -c "[ \"\$($XLBCTL -s $SOCK -j status | jq '.flow_walk.walks')\" -ge 1 ]"

# ---- waits that fail at once ----
run_ctl backend wait "$VIP" 198.18.0.11 drained
expect_eq "wait on a backend that is up: exit 1, says why" "$RC $ERR" \
	"1 xlbctl: backend 198.18.0.11 of $VIP is not draining (state up)"
check "...at once ($MS ms)" test "$MS" -lt 1000
run_ctl backend wait "$VIP" 198.18.0.19 drained
expect_eq "wait on an unknown backend: exit 1" "$RC $ERR" "1 xlbctl: no such backend"
run_ctl backend wait 198.18.100.11:80/tcp 198.18.0.11 drained
expect_eq "wait on an unknown VIP: exit 1" "$RC $ERR" "1 xlbctl: no such VIP"
expect_eq "backend show -j has no drained field for an up backend" "$(field 198.18.0.11 drained)" null

# ---- a slow download, then its backend drained ----
ip netns exec "$CLIENT" curl -s -m 60 -D "$RUN/slow.hdr" -o "$RUN/slow.body" "http://$V4/slow" &
DL_PID=$!
check "the download has started" wait_for 5 grep -qi '^x-backend' "$RUN/slow.hdr"
be=$(awk -F': ' 'tolower($1) == "x-backend" {print $2}' "$RUN/slow.hdr" | tr -d '\r')
n=${be#be}
addr=198.18.0.1$n
echo "# the download is on $be ($addr)"
expect_eq "ss: the download is the one connection established on $be" "$(ss_of "$n")" 1
check "xlbd counts it live on $addr" wait_for 3 bash -c "[ \"\$($XLBCTL -s $SOCK -j backend show $VIP |
	jq --arg a $addr '.backends[] | select(.address == \$a) | .active_flows')\" = 1 ]"
check "drain $addr" ctl backend set "$VIP" "$addr" drain
expect_eq "backend show -j: state drain, drained false" \
	"$(field "$addr" state) $(field "$addr" drained)" '"drain" false'
run_ctl backend wait "$VIP" "$addr" drained timeout 1s
expect_eq "wait ... timeout 1s while the download runs: exit 4 and one line" "$RC $ERR" \
	"4 xlbctl: backend $addr of $VIP not drained after 1s (1 live flow)"
check "...after 1 s, not much more ($MS ms)" test "$MS" -ge 1000 -a "$MS" -lt 2000
run_ctl -j backend wait "$VIP" "$addr" drained timeout 1s
expect_eq "-j: the same as a JSON error" "$RC $ERR" \
	"4 {\"error\":\"backend $addr of $VIP not drained after 1s (1 live flow)\"}"
check "the download is still running" kill -0 "$DL_PID"
answers=$(get 60)
expect_eq "60 new connections all answered" "$(grep -c be <<<"$answers")" 60
check "...none by the draining $be" bash -c "! grep -qx '$be' <<<'$answers'"
check "...by the two others" test "$(sort -u <<<"$answers" | wc -l)" = 2
check "backend show marks the drain as not done" \
	bash -c "$XLBCTL -s $SOCK backend show $VIP | grep '$addr ' | grep -q ' drain  '"
check "the download is still running" kill -0 "$DL_PID"

# ---- the download ends: the drain is complete ----
wait "$DL_PID"
rc=$?
DL_PID=
t0=$(date +%s%N)
expect_eq "the download completes intact ($SIZE bytes)" \
	"$rc $(sha256sum <"$RUN/slow.body" | cut -d' ' -f1)" "0 $want_sum"
run_ctl -j backend wait "$VIP" "$addr" drained timeout 10s
since=$((($(date +%s%N) - t0) / 1000000))
expect_eq "wait ... drained returns 0" "$RC $ERR" "0 "
echo "# the wait took $MS ms ($since ms after the download ended): $(cat "$RUN/ctl.out")"
check "...within 3 s of the download's end (a walk a second, one begun after the wait)" \
	test "$since" -lt 3000
expect_eq "-j: it says what it waited for" "$(jq -c '[.vip, .address, .drained]' "$RUN/ctl.out")" \
	"[\"$VIP\",\"$addr\",true]"
expect_eq "backend show -j: drained true, no live flow" \
	"$(field "$addr" drained) $(field "$addr" active_flows)" "true 0"
check "backend show marks it: drain (done)" \
	bash -c "$XLBCTL -s $SOCK backend show $VIP | grep '$addr ' | grep -q ' drain (done) '"
run_ctl backend wait "$VIP" "$addr" drained timeout 5s
expect_eq "a second wait on the drained backend returns 0 too" "$RC" 0
echo "# it took $MS ms (a walk complete after it began)"
check "...not at its first look, which can only set the walk to wait for ($MS ms)" test "$MS" -ge 100 -a "$MS" -lt 3000

# ---- undrained: no longer draining ----
check "undrain $addr" ctl backend set "$VIP" "$addr" undrain
expect_eq "backend show -j: no drained field once up" "$(field "$addr" drained)" null
run_ctl backend wait "$VIP" "$addr" drained
expect_eq "wait on it now fails at once" "$RC $ERR" \
	"1 xlbctl: backend $addr of $VIP is not draining (state up)"

tap_end
