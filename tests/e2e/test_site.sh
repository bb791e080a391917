#!/usr/bin/env bash
# xlb in front of reverse proxies (scripts/site.sh, examples/xlb-site.yaml):
# a client through the VIP to two nginx proxies (TLS, gzip, cache) in front
# of three app servers. Asserts what the client sees: a verified TLS
# handshake and body, replies that bypass the LB, compression, cache hits
# that never reach an app, and a proxy failing with xlb moving new
# connections to the other. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

V4=198.18.100.10
V6=2001:db8:100::10
trap site_down EXIT INT TERM

site_up "xlbt-s$$-" -n 2 --apps 3
check "site: certificate, 3 apps and 2 proxies start" bash "$TOP/scripts/site.sh" start -p "$SITE"
eval "$(bash "$TOP/scripts/site.sh" env -p "$SITE")" # CLIENT LB CA HOST PROXYn APPn
cp "$TOP/examples/xlb-site.yaml" "$RUN/xlb.yaml"
check_start "xlbd starts with examples/xlb-site.yaml" "$RUN/xlb.yaml"

cl() { ip netns exec "$CLIENT" "$@"; }
# tls ARGS...: curl through the VIP by name, verified against the site's CA
tls() { cl curl -sS -g -m 5 --cacert "$CA" --resolve "$HOST:443:$V4" --resolve "$HOST:80:$V4" "$@"; }
state() { # VIP ADDRESS -> "state last_check"
	ctl -j backend show "$1" | jq -r --arg a "$2" '.backends[] | select(.address == $a) | "\(.state) \(.last_check)"'
}
n_up() { ctl -j backend show "$1" | jq '[.backends[] | select(.state == "up")] | length'; }
all_up() { [ "$(n_up "$V4:80/tcp") $(n_up "$V4:443/tcp") $(n_up "[$V6]:443/tcp")" = "2 2 2" ]; }
hits() { # requests that reached the apps, all three
	local i s=0 h
	for i in 1 2 3; do
		h=$(ip netns exec "${SITE}app$i" curl -s -m 2 http://127.0.0.1:8080/hits)
		case $h in '' | *[!0-9]*) echo "app$i: no count"; return ;; esac
		s=$((s + h))
	done
	echo "$s"
}
dev() { ip -n "$1" -j -s link show eth0 | jq ".[0].stats64.$2"; }
be_bytes() { ctl -j backend show "$V4:443/tcp" | jq '[.backends[].bytes] | add'; }

# ---- health checks over https
if wait_for 15 all_up; then ok "health: both proxies up, by https on :443 (IPv4, IPv6) and http on :80"; else
	not_ok "health: both proxies up, by https on :443 (IPv4, IPv6) and http on :80" "$(ctl backend show)"; fi
expect_eq "health: the :443 VIPs check https" \
	"$(ctl -j vip show | jq -r '[.vips[] | select(.vip | test(":443/")) | .health.check] | join(" ")')" "https https"

# ---- TLS through the VIP, the certificate verified for the host name
out=$(tls -o "$RUN/tls.body" -w '%{http_code} %{ssl_verify_result} %header{x-proxy}' "https://$HOST/")
case $out in "200 0 proxy1" | "200 0 proxy2") ok "TLS: https://$HOST/ via the VIP, verified by the site CA ($out)" ;;
*) not_ok "TLS: https://$HOST/ via the VIP, verified by the site CA" "got: $out" ;; esac
check "TLS: the body is an app's page" grep -qx 'app[1-3] 198.18.0.20[1-3]: /' <<<"$(head -1 "$RUN/tls.body")"
rc=0
cl curl -s -m 5 --resolve "$HOST:443:$V4" -o /dev/null "https://$HOST/" || rc=$?
expect_eq "TLS: without the site CA curl refuses the certificate" "$rc" 60
rc=0
cl curl -s -m 5 --cacert "$CA" --resolve "other.xlb.test:443:$V4" -o /dev/null https://other.xlb.test/ || rc=$?
expect_eq "TLS: another host name (SNI) does not match the certificate" "$rc" 60
expect_eq "TLS: IPv6 VIP [$V6]:443" "$(cl curl -sS -g -m 5 --cacert "$CA" --resolve "$HOST:443:[$V6]" \
	-o /dev/null -w '%{http_code} %{ssl_verify_result}' "https://$HOST/")" "200 0"
expect_eq "HTTP: port 80 of the VIP" "$(tls -o /dev/null -w '%{http_code}' "http://$HOST/")" 200

# ---- DSR: five 2 MiB replies over TLS; the LB sees only the request direction
ctb=$(dev "$CLIENT" tx.bytes) crb=$(dev "$CLIENT" rx.bytes) lrb=$(dev "$LB" rx.bytes) xb=$(be_bytes)
ptb=$(($(dev "$PROXY1" tx.bytes) + $(dev "$PROXY2" tx.bytes)))
args=()
for i in 1 2 3 4 5; do args+=(-o /dev/null -H 'Connection: close' "https://$HOST/big"); done
sizes=$(tls -w '%{http_code} %{size_download} %header{content-length}\n' "${args[@]}" 2>/dev/null | awk '$1 == 200 && $2 == $3 && $2 > 2000000' | wc -l)
dctb=$(($(dev "$CLIENT" tx.bytes) - ctb)) dcrb=$(($(dev "$CLIENT" rx.bytes) - crb))
dlrb=$(($(dev "$LB" rx.bytes) - lrb)) dxb=$(($(be_bytes) - xb))
dptb=$(($(dev "$PROXY1" tx.bytes) + $(dev "$PROXY2" tx.bytes) - ptb))
echo "# client sent $dctb bytes, received $dcrb; xlb forwarded $dxb to the proxies; LB eth0 received $dlrb; the proxies sent $dptb"
expect_eq "DSR: five 2 MiB downloads over TLS complete" "$sizes" 5
check "DSR: the proxies sent the replies and the client received them (over 10 MiB)" \
	test "$dcrb" -gt 10485760 -a "$dptb" -ge "$dcrb"
check "DSR: the LB's interface received under 5% of that" test "$dlrb" -lt $((dcrb / 20))
check "DSR: xlb's backend byte counters saw the client's bytes, no more (within ARP noise)" \
	test "$dxb" -le "$dctb" -a "$dxb" -ge $((dctb - 4000))

# ---- gzip: the proxy compresses the app's page
hdr=$(tls --compressed -D - -o "$RUN/gz.body" -w 'size_download: %{size_download}\n' "https://$HOST/gzip")
app=$(awk -F': ' 'tolower($1) == "x-app" {print $2}' <<<"$hdr" | tr -d '\r')
check "gzip: Content-Encoding: gzip" grep -qi '^content-encoding: gzip' <<<"$hdr"
case $app in app[1-3]) ;; *) app=app1 ;; esac
cl curl -s -m 5 -o "$RUN/gz.app" "http://198.18.0.20${app#app}:8080/gzip"
check "gzip: the decompressed body is $app's own" cmp "$RUN/gz.body" "$RUN/gz.app"
wire=$(awk '/^size_download:/ {print $2}' <<<"$hdr")
check "gzip: on the wire $wire bytes of $(stat -c %s "$RUN/gz.app")" test "${wire:-0}" -gt 0 -a "${wire:-0}" -lt $(($(stat -c %s "$RUN/gz.app") / 4))

# ---- cache: three requests on one connection (one proxy)
h0=$(hits)
got=$(tls -w '%header{x-cache-status} %header{x-proxy}\n' -o /dev/null "https://$HOST/cached" \
	-o /dev/null "https://$HOST/cached" -o /dev/null "https://$HOST/cached" | awk '{print $1}' | tr '\n' ' ')
h1=$(hits)
expect_eq "cache: MISS, then HIT, HIT" "$got" "MISS HIT HIT "
case "$h0$h1" in *[!0-9]*) d="$h0, then $h1" ;; *) d=$((h1 - h0)) ;; esac
expect_eq "cache: the apps counted one request, the MISS" "$d" 1

# ---- a proxy fails: xlb moves new connections to the other
bash "$TOP/scripts/site.sh" proxy-stop -p "$SITE" 2
down443() { state "$V4:443/tcp" 198.18.0.12 | grep -q '^down'; }
down80() { state "$V4:80/tcp" 198.18.0.12 | grep -q '^down'; }
wait_for 10 down443 && wait_for 5 down80
expect_eq "failure: xlbctl shows proxy2 down on :443" "$(state "$V4:443/tcp" 198.18.0.12)" "down connect refused"
expect_eq "failure: ...and on :80" "$(state "$V4:80/tcp" 198.18.0.12 | cut -d' ' -f1)" down
args=()
for i in $(seq 1 40); do args+=(-o /dev/null -H 'Connection: close' "https://$HOST/"); done
got=$(tls -w '%{http_code} %header{x-proxy}\n' "${args[@]}" 2>/dev/null | sort | uniq -c | awk '{print $1, $2, $3}')
expect_eq "failure: 40 new TLS connections, all served by proxy1" "$got" "40 200 proxy1"
args=()
for i in $(seq 1 20); do args+=(-o /dev/null -H 'Connection: close' "http://$HOST/"); done
got=$(tls -w '%{http_code} %header{x-proxy}\n' "${args[@]}" 2>/dev/null | sort | uniq -c | awk '{print $1, $2, $3}')
expect_eq "failure: 20 new connections on :80, all served by proxy1" "$got" "20 200 proxy1"

bash "$TOP/scripts/site.sh" proxy-start -p "$SITE" 2
check "recovery: proxy2 up again on every VIP" wait_for 10 all_up
args=()
for i in $(seq 1 40); do args+=(-o /dev/null -H 'Connection: close' "https://$HOST/"); done
got=$(tls -w '%header{x-proxy}\n' "${args[@]}" 2>/dev/null | sort -u | tr '\n' ' ')
expect_eq "recovery: 40 new connections reach both proxies" "$got" "proxy1 proxy2 "

tap_end
