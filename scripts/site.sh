#!/usr/bin/env bash
# The L4+L7 site: xlb in front of reverse proxies, in front of app servers.
# The namespaces are scripts/topo.sh's (up -n 2 --apps 3):
#
#   client  198.18.0.1      VIPs 198.18.100.10 and 2001:db8:100::10, ports 80, 443
#   lb      198.18.0.2      xlbd (examples/xlb-site.yaml): L2 DSR to the proxies
#   be1..2  198.18.0.11..12 nginx reverse proxies, the VIPs on lo (DSR backends):
#                           TLS for www.xlb.test, gzip, proxy_cache, upstream
#                           to the apps; X-Proxy and X-Cache-Status headers;
#                           /healthz answered by nginx itself
#   app1..3 198.18.0.201..203:8080  scripts/site_app.py: names itself, counts hits
#
# The certificate (a throwaway CA and the site's certificate, signed by it)
# is made at start in RUN_DIR/tls; logs and PIDs are in RUN_DIR/proxyN and
# RUN_DIR/appN. topo.sh down kills those PIDs and removes RUN_DIR.
#
# usage: site.sh up    [-p PREFIX]    # topo.sh up -n 2 --apps 3, then start
#        site.sh start [-p PREFIX]    # the certificate, apps and proxies, on
#                                     # namespaces made by topo.sh up -n 2 --apps 3
#        site.sh down  [-p PREFIX]
#        site.sh proxy-stop|proxy-start [-p PREFIX] N   # one proxy's nginx
#        site.sh env   [-p PREFIX]    # names and paths, for scripts to eval
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prefix=xlbt-site-
cmd=${1:-}
shift || true
n=
while [ $# -gt 0 ]; do
	case $1 in
	-p) prefix=$2; shift 2 ;;
	[12]) n=$1; shift ;;
	*) echo "site.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
run_dir=/run/xlbt/${prefix%-}
tls=$run_dir/tls
host=www.xlb.test
apps=3

# certificate: a CA that lives as long as the site, and the proxies' certificate
tls_make() {
	mkdir -p "$tls"
	(
		cd "$tls"
		ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
		openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 \
			-subj "/CN=xlb site throwaway CA"
		openssl req -new "${ec[@]}" -keyout site.key -out site.csr -subj "/CN=$host"
		printf 'subjectAltName=DNS:%s,IP:198.18.100.10,IP:2001:db8:100::10\nextendedKeyUsage=serverAuth\n' \
			"$host" >site.ext
		openssl x509 -req -in site.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile site.ext -out site.pem
	) >"$tls/openssl.log" 2>&1 || { cat "$tls/openssl.log" >&2; exit 1; }
}

app_start() { # N
	local dir=$run_dir/app$1
	mkdir -p "$dir"
	ip netns exec "${prefix}app$1" python3 "$here/site_app.py" "app$1" "198.18.0.20$1" 8080 \
		>"$dir/app.log" 2>&1 &
	echo $! >"$dir/app.pid"
}

app_ready() { # N
	ip netns exec "${prefix}app$1" curl -s -m 1 -o /dev/null http://127.0.0.1:8080/hits
}

proxy_start() { # N
	local dir=$run_dir/proxy$1 i
	mkdir -p "$dir/tmp" "$dir/cache"
	cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
	access_log $dir/access.log;
	client_body_temp_path $dir/tmp;
	proxy_temp_path $dir/tmp;
	fastcgi_temp_path $dir/tmp;
	uwsgi_temp_path $dir/tmp;
	scgi_temp_path $dir/tmp;
	default_type text/plain;
	proxy_cache_path $dir/cache levels=1:2 keys_zone=site:1m max_size=64m inactive=10m use_temp_path=off;
	upstream apps {
$(for i in $(seq 1 "$apps"); do printf '\t\tserver 198.18.0.20%d:8080;\n' "$i"; done)
		keepalive 8;
	}
	gzip on;
	gzip_types text/plain;
	gzip_vary on;
	server {
		listen 80 reuseport;
		listen [::]:80 reuseport;
		listen 443 ssl reuseport;
		listen [::]:443 ssl reuseport;
		server_name $host;
		ssl_certificate $tls/site.pem;
		ssl_certificate_key $tls/site.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		add_header X-Proxy proxy$1 always;
		add_header X-Cache-Status \$upstream_cache_status always;
		# xlb's health check: this proxy, not the apps behind it
		location = /healthz { return 200 "ok\n"; }
		location / {
			proxy_pass http://apps;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host \$host;
			proxy_cache site;
		}
	}
}
EOF
	ip netns exec "${prefix}be$1" nginx -c "$dir/nginx.conf"
}

proxy_stop() { # N
	local pid i
	pid=$(cat "$run_dir/proxy$1/nginx.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do # up to 5 s for it to let go of its ports
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
}

start() {
	local i
	ip netns list | grep -q "^${prefix}app$apps\b" ||
		{ echo "site.sh: no ${prefix}app$apps: run 'topo.sh up -p $prefix -n 2 --apps $apps' first" >&2; exit 1; }
	tls_make
	for i in $(seq 1 "$apps"); do app_start "$i"; done
	for i in $(seq 1 "$apps"); do
		for _ in $(seq 1 100); do # up to 10 s for python to start
			app_ready "$i" && break
			sleep 0.1
		done
		app_ready "$i" || { echo "site.sh: app$i does not answer" >&2; cat "$run_dir/app$i/app.log" >&2; exit 1; }
	done
	for i in 1 2; do proxy_start "$i"; done
}

case $cmd in
up)
	bash "$here/topo.sh" up -p "$prefix" -n 2 --apps "$apps"
	start
	;;
start) start ;;
down) bash "$here/topo.sh" down -p "$prefix" ;;
proxy-stop) proxy_stop "${n:?proxy number}" ;;
proxy-start) proxy_start "${n:?proxy number}" ;;
env)
	echo "CLIENT=${prefix}client LB=${prefix}lb RUN_DIR=$run_dir CA=$tls/ca.pem HOST=$host"
	for i in 1 2; do echo "PROXY$i=${prefix}be$i"; done
	for i in $(seq 1 "$apps"); do echo "APP$i=${prefix}app$i"; done
	;;
*) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
