#!/usr/bin/env bash
# make demo: xlb's main job in one command. Builds a site of network
# namespaces (a client, the LB, three nginx backends), starts xlbd with
# examples/xlb.yaml, sends traffic and shows what happens; then the whole
# picture: xlb in front of nginx reverse proxies that end TLS, compress and
# cache for three app servers (scripts/site.sh, examples/xlb-site.yaml).
# Tears it all down at the end, unless DEMO_KEEP=1. 'demo.sh site': the
# second part alone; 'demo.sh ecmp': several LB hosts; 'demo.sh down'.
set -euo pipefail
. "$(dirname "$0")/../tests/lib.sh"

V4=198.18.100.10
V6=2001:db8:100::10
keep=${DEMO_KEEP:-0}

# demo_down PREFIX: remove a demo site, also one a kept demo left behind
# (its xlbd is then no child of ours: wait for it by its PID)
demo_down() {
	ip netns list | grep -q "^${1}sw" || return 0
	SITE=$1 RUN=/run/xlbt/${1%-}
	PIN=$RUN/bpf/xlb SOCK=$RUN/xlbd.sock STATE=$RUN/state
	XLBD_PID=$(cat "$RUN/xlbd.pid" 2>/dev/null || true)
	local pid=$XLBD_PID
	xlbd_stop
	[ -z "$pid" ] || wait_for 5 bash -c "! kill -0 $pid"
	site_down >/dev/null 2>&1 || true
}
cleanup() {
	[ "$keep" = 1 ] && return 0
	demo_down xlbt-demo-
	demo_down xlbt-demo7-
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
client() { ip netns exec "${SITE}client" "$@"; }
ask() { client curl -s -g -m 3 -H 'Connection: close' "$@"; }
up_count() { ctl -j backend show "$V4:80/tcp" | jq '[.backends[] | select(.state == "up")] | length'; }

# demo.sh ecmp: three LB hosts behind a router (scripts/topo-ecmp.sh), one
# dies under load, the client does not notice.
demo_ecmp() {
	local P=xlbt-demoe- topo=$TOP/scripts/topo-ecmp.sh i n ok fail s rc
	# shellcheck disable=SC2064 # the names now; they are local
	trap "bash '$topo' down -p '$P' >/dev/null 2>&1 || true" EXIT INT TERM
	bash "$topo" down -p "$P" >/dev/null 2>&1 || true
	say "Building the site: client, a BIRD router, three LB hosts (xlbd + BIRD), three nginx backends"
	bash "$topo" up -p "$P"
	eval "$(bash "$topo" env -p "$P")"
	hops() { ip -n "$ROUTER" route show "$VIP" | grep -c 'nexthop via'; }
	hops_are() { [ "$(hops)" = "$1" ]; }
	wait_for 20 hops_are 3 || true
	say "The router learned $VIP over BGP from each LB host: one route, three paths"
	ip -n "$ROUTER" route show "$VIP" | sed 's/^/  /'
	say "300 new connections from the client, as the router spread them (VIP packets per LB host)"
	for i in 1 2 3; do n=$("$XLBCTL" -s "$RUN_DIR/lb$i/xlbd.sock" -j vip show | jq '.vips[0].packets'); eval "p$i=$n"; done
	args=()
	for i in $(seq 1 300); do args+=(-o /dev/null "http://$VIP/"); done
	ip netns exec "$CLIENT" curl -s -m 30 -H 'Connection: close' "${args[@]}" || true
	for i in 1 2 3; do
		n=$("$XLBCTL" -s "$RUN_DIR/lb$i/xlbd.sock" -j vip show | jq '.vips[0].packets')
		eval "printf '  lb%d %5d packets\n' $i \$((n - p$i))"
	done
	say "30 slow downloads (10 s each) and a stream of new requests; lb2 dies after 2 s"
	for i in $(seq 1 30); do
		ip netns exec "$CLIENT" curl -s -m 30 -o /dev/null -w '%{http_code} %{size_download}\n' \
			"http://$VIP/slow" >"$RUN_DIR/dl$i.out" 2>/dev/null &
		echo $! >"$RUN_DIR/dl$i.pid"
	done
	ok=0 fail=0 s=$(date +%s%N)
	for i in $(seq 1 2000); do
		[ $(($(date +%s%N) - s)) -gt 9000000000 ] && break
		if [ $(($(date +%s%N) - s)) -gt 2000000000 ] && [ "$(hops)" = 3 ] && [ ! -f "$RUN_DIR/killed" ]; then
			bash "$topo" kill-lb -p "$P" 2
			touch "$RUN_DIR/killed"
			printf '  %5d ms  lb2: cable pulled, xlbd and bird killed\n' $((($(date +%s%N) - s) / 1000000))
		fi
		if [ -f "$RUN_DIR/killed" ] && [ ! -f "$RUN_DIR/gone" ] && [ "$(hops)" = 2 ]; then
			touch "$RUN_DIR/gone"
			printf '  %5d ms  the router dropped lb2 (BFD): two paths left\n' $((($(date +%s%N) - s) / 1000000))
		fi
		rc=0
		ip netns exec "$CLIENT" curl -s -o /dev/null --connect-timeout 0.3 -m 1 -H 'Connection: close' "http://$VIP/" || rc=$?
		if [ "$rc" = 0 ]; then ok=$((ok + 1)); else fail=$((fail + 1)); fi
	done
	n=0
	for i in $(seq 1 30); do
		wait "$(cat "$RUN_DIR/dl$i.pid")" 2>/dev/null || true
		[ "$(cat "$RUN_DIR/dl$i.out")" = "200 2621440" ] && n=$((n + 1))
	done
	printf '  new requests: %d answered, %d failed (a connect timeout is 300 ms)\n' "$ok" "$fail"
	printf '  slow downloads that finished whole: %d of 30\n' "$n"
	say "Every host builds the same Maglev table, so the others carried lb2's connections on"
	ip -n "$ROUTER" route show "$VIP" | sed 's/^/  /'
	say "Tearing down"
}

# demo.sh site: the whole picture, xlb (L4) in front of nginx reverse
# proxies (L7) in front of app servers: scripts/site.sh
demo_site() {
	local P=xlbt-demo7- site=$TOP/scripts/site.sh i fails t0 r h0 h1 args c_tx c_rx l_rx x_b p_tx
	say "Part 2: xlb in front of reverse proxies, which end TLS, compress and cache"
	site_up "$P" -n 2 --apps 3
	bash "$site" start -p "$P"
	eval "$(bash "$site" env -p "$P")"
	cat <<EOF
  client   ${P}client   198.18.0.1              https://$HOST/ is the VIP $V4 (ports 80, 443)
  LB       ${P}lb       198.18.0.2              xlbd, examples/xlb-site.yaml: L2 DSR, https health checks
  proxies  ${P}be1..2   198.18.0.11..12         nginx: TLS (a throwaway CA made just now), gzip, cache
  apps     ${P}app1..3  198.18.0.201..203:8080  python: each names itself and counts its hits
EOF
	cp "$TOP/examples/xlb-site.yaml" "$RUN/xlb.yaml"
	xlbd_start "$RUN/xlb.yaml" || { tail -5 "$RUN/xlbd.log"; exit 1; }
	wait_for 15 site_all_up || true
	grep ':443/tcp up' "$RUN/xlbd.log" | sed 's/^/  /'

	say "A TLS request through the VIP (curl --cacert the site's CA), answered by a proxy"
	tls -v -o "$RUN/page" "https://$HOST/" 2>&1 |
		grep -E '^\* (SSL connection| subject| subjectAltName| issuer| SSL certificate verify)|^< (HTTP|X-)' | sed 's/^/  /'
	printf '  body: %s\n' "$(head -1 "$RUN/page")"

	say "DSR: five 2 MiB downloads over TLS; the replies go from the proxies straight to the client"
	c_tx=$(dev "$CLIENT" tx.bytes) c_rx=$(dev "$CLIENT" rx.bytes) l_rx=$(dev "$LB" rx.bytes)
	x_b=$(xlb_bytes) p_tx=$(proxies_tx)
	for i in 1 2 3 4 5; do tls -o /dev/null "https://$HOST/big"; done
	printf '  %-42s %12s bytes\n' "client sent (requests, ACKs)" "$(($(dev "$CLIENT" tx.bytes) - c_tx))"
	printf '  %-42s %12s bytes\n' "XDP on the LB forwarded to the proxies" "$(($(xlb_bytes) - x_b))"
	printf '  %-42s %12s bytes\n' "LB interface received (health checks too)" "$(($(dev "$LB" rx.bytes) - l_rx))"
	printf '  %-42s %12s bytes\n' "the proxies sent" "$(($(proxies_tx) - p_tx))"
	printf '  %-42s %12s bytes   <- never through the LB\n' "client received" "$(($(dev "$CLIENT" rx.bytes) - c_rx))"

	say "Compression: the app sends plain text, the proxy gzips it"
	tls --compressed -D "$RUN/gz.h" -o "$RUN/gz" -w '  %{size_download} bytes on the wire, ' "https://$HOST/gzip"
	printf '%s bytes decompressed; %s\n' "$(stat -c %s "$RUN/gz")" "$(grep -i '^content-encoding' "$RUN/gz.h" | tr -d '\r')"

	say "Cache: three requests for /cached on one connection; the apps' hit counters before and after"
	h0=$(hits)
	tls -w '  %header{x-proxy}: X-Cache-Status %header{x-cache-status}\n' -o /dev/null "https://$HOST/cached" \
		-o /dev/null "https://$HOST/cached" -o /dev/null "https://$HOST/cached"
	h1=$(hits)
	printf '  before: %s\n  after:  %s (one more: the MISS; the HITs never reached an app)\n' "$h0" "$h1"

	say "A proxy fails: nginx on proxy2 stops while the client keeps asking"
	t0=$(date +%s%N)
	kill "$(cat "$RUN/proxy2/nginx.pid")"
	fails=0
	for i in $(seq 1 60); do
		r=$(tls -o /dev/null -w '%{http_code}' "https://$HOST/" || true)
		[ "$r" = 200 ] || fails=$((fails + 1))
		proxy2_down && break
		sleep 0.05
	done
	printf '  proxy2 marked down after %d ms (https check every 500ms, fall 2); %d requests failed meanwhile\n' \
		$((($(date +%s%N) - t0) / 1000000)) "$fails"
	grep '198.18.0.12 of 198.18.100.10:443/tcp down' "$RUN/xlbd.log" | tail -1 | sed 's/^/  log: /'
	args=()
	for i in $(seq 1 50); do args+=(-o /dev/null -H 'Connection: close' "https://$HOST/"); done
	printf '  then 50 new connections:'
	tls -w '%{http_code} %header{x-proxy}\n' "${args[@]}" | sort | uniq -c |
		awk '{printf "  %d answered %s by %s", $1, $2, $3} END {print ""}'
	bash "$site" proxy-stop -p "$P" 2
	bash "$site" proxy-start -p "$P" 2
	wait_for 10 site_all_up || true
	printf '  nginx back on proxy2: up again after 2 good checks\n'

	say "xlbctl backend show"
	ctl backend show | sed 's/^/  /'
	keep_note="${keep_note:+$keep_note
}Part 2, reverse proxies:
  ip netns exec ${P}client curl --cacert $CA --resolve $HOST:443:$V4 -v https://$HOST/
  ip netns exec ${P}app1 curl http://127.0.0.1:8080/hits
  $XLBCTL -s $SOCK backend show
  tail -f $RUN/xlbd.log $RUN/proxy1/access.log"
}
# what demo_site asks, on the site of its variables
tls() { client curl -s -g -m 3 --cacert "$CA" --resolve "$HOST:443:$V4" --resolve "$HOST:80:$V4" "$@"; }
hits() { for i in 1 2 3; do printf 'app%d %s  ' "$i" "$(ip netns exec "${SITE}app$i" curl -s -m 2 http://127.0.0.1:8080/hits)"; done; }
dev() { ip -n "$1" -j -s link show eth0 | jq ".[0].stats64.$2"; }
proxies_tx() { echo $(($(dev "$PROXY1" tx.bytes) + $(dev "$PROXY2" tx.bytes))); }
xlb_bytes() { ctl -j vip show "$V4:443/tcp" | jq '.vips[0].bytes'; }
site_all_up() { [ "$(ctl -j backend show | jq '[.backends[] | select(.state == "up")] | length')" = 6 ]; }
proxy2_down() {
	[ "$(ctl -j backend show "$V4:443/tcp" | jq -r '.backends[] | select(.address == "198.18.0.12") | .state')" = down ]
}

demo_keep_note() {
	if [ "$keep" = 1 ]; then
		say "The sites stay up (DEMO_KEEP=1). Explore:"
		printf '%s\nTear them down:\n  bash %s/scripts/demo.sh down\n' "$keep_note" "$TOP"
	else
		say "Tearing down"
	fi
}

if [ "${1:-}" = ecmp ]; then
	demo_ecmp
	exit 0
fi

# a previous kept demo would be in the way; 'demo.sh down' only removes it
demo_down xlbt-demo-
demo_down xlbt-demo7-
if [ "${1:-}" = down ]; then
	keep=1
	echo "demo sites removed"
	exit 0
fi
if [ "${1:-}" = site ]; then
	demo_site
	demo_keep_note
	exit 0
fi

say "Building the site: client, LB and three nginx backends, in network namespaces"
site_up xlbt-demo- -n 3 --nginx
cp "$TOP/examples/xlb.yaml" "$RUN/xlb.yaml"
cat <<EOF
  client   ${SITE}client   198.18.0.1   2001:db8::1    routes the VIPs via the LB
  LB       ${SITE}lb       198.18.0.2   2001:db8::2    xlbd on eth0 (native XDP)
  backends ${SITE}be1..3   198.18.0.11..13             nginx; VIPs on lo, answer directly
  VIPs     $V4:80/tcp and [$V6]:80/tcp
EOF

say "Starting xlbd with examples/xlb.yaml"
xlbd_start "$RUN/xlb.yaml" || { tail -5 "$RUN/xlbd.log"; exit 1; }
wait_for 15 bash -c "[ \"\$($XLBCTL -s $SOCK -j backend show $V4:80/tcp | jq '[.backends[] | select(.state == \"up\")] | length')\" = 3 ]"
sed 's/^/  /' "$RUN/xlbd.log"

say "Who answers? Six requests from the client, each on a new connection"
for i in 1 2 3; do
	printf '  http://%s/        -> %s\n' "$V4" "$(ask "http://$V4/")"
	printf '  http://[%s]/  -> %s\n' "$V6" "$(ask "http://[$V6]/")"
done

say "Distribution over 300 connections (Maglev hashing of the 5-tuple)"
args=()
for i in $(seq 1 300); do args+=(-o /dev/stdout "http://$V4/"); done
client curl -s -m 10 -H 'Connection: close' "${args[@]}" | awk '{print $2}' | sort | uniq -c |
	awk '{ bar = ""; for (i = 0; i < $1 / 4; i++) bar = bar "#"; printf "  %s %4d  %5.1f%%  %s\n", $2, $1, $1 / 3, bar }'

say "Direct server return: replies bypass the LB"
rx() { ip -n "$1" -j -s link show eth0 | jq ".[0].stats64.$2"; }
c_tx=$(rx "${SITE}client" tx.bytes) c_rx=$(rx "${SITE}client" rx.bytes)
l_rx=$(rx "${SITE}lb" rx.bytes) x_b=$(ctl -j vip show "$V4:80/tcp" | jq '.vips[0].bytes')
for i in 1 2 3 4 5; do client curl -s -m 10 -o /dev/null "http://$V4/big"; done
printf '  five 4 MiB downloads through the VIP:\n'
printf '  %-42s %12s bytes\n' "client sent (requests, ACKs)" "$(($(rx "${SITE}client" tx.bytes) - c_tx))"
printf '  %-42s %12s bytes\n' "XDP on the LB forwarded for the VIP" "$(($(ctl -j vip show "$V4:80/tcp" | jq '.vips[0].bytes') - x_b))"
printf '  %-42s %12s bytes\n' "LB interface counter (no Ethernet headers)" "$(($(rx "${SITE}lb" rx.bytes) - l_rx))"
printf '  %-42s %12s bytes   <- straight from the backends\n' "client received (the files)" "$(($(rx "${SITE}client" rx.bytes) - c_rx))"

say "Failover: nginx on be2 stops while the client keeps asking"
t0=$(date +%s%N)
kill "$(cat "$RUN/nginx-be2/nginx.pid")"
fails=0
for i in $(seq 1 60); do
	r=$(ask -o /dev/null -w '%{http_code}' "http://$V4/" || true)
	[ "$r" = 200 ] || fails=$((fails + 1))
	[ "$(up_count)" = 2 ] && break
	sleep 0.05
done
printf '  be2 marked down after %d ms (health check every 500ms, fall 2); %d requests failed meanwhile\n' \
	$((($(date +%s%N) - t0) / 1000000)) "$fails"
grep 'be2\|198.18.0.12 of 198.18.100.10:80/tcp down' "$RUN/xlbd.log" | tail -1 | sed 's/^/  log: /'
ok=0
for i in $(seq 1 100); do [ "$(ask -o /dev/null -w '%{http_code}' "http://$V4/")" = 200 ] && ok=$((ok + 1)); done
printf '  then 100 more requests: %d succeeded\n' "$ok"
bash "$TOP/scripts/topo.sh" nginx-stop -p "$SITE" 2
bash "$TOP/scripts/topo.sh" nginx-start -p "$SITE" 2
wait_for 10 bash -c "[ \"\$($XLBCTL -s $SOCK -j backend show $V4:80/tcp | jq '[.backends[] | select(.state == \"up\")] | length')\" = 3 ]"
printf '  nginx back on be2: up again after 2 good checks\n'

say "xlbctl backend show"
ctl backend show | sed 's/^/  /'

say "xlbctl stats $V4:80/tcp"
ctl stats "$V4:80/tcp" | grep -v ' 0$' | sed 's/^/  /'

keep_note="Part 1, nginx backends:
  ip netns exec ${SITE}client curl http://$V4/
  $XLBCTL -s $SOCK backend show
  $XLBCTL -s $SOCK stats
  $XLBCTL -s $SOCK backend set $V4:80/tcp 198.18.0.11 drain
  tail -f $RUN/xlbd.log
  ip netns exec ${SITE}client wrk -c 16 -d 10s http://$V4/"
[ "$keep" = 1 ] || demo_down xlbt-demo-
demo_site
demo_keep_note
