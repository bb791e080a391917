#!/usr/bin/env bash
# Packaging: the man pages (built, clean for man, naming every option the
# programs' --help has), make install (PREFIX, DESTDIR, the unit's paths and
# systemd-analyze verify, the config kept), make uninstall, xlbctl's bash
# completion (words, and VIPs and backends from a running xlbd), make deb
# (lintian, its Depends against the libraries the binaries link, installed
# into a scratch root with dpkg --root, run, purged). Prints TAP.
#
# The .deb is built with dpkg-buildpackage from a copy of the tree, with its
# own objects (Debian's hardening flags): ~20 s of the suite on two cores.
set -u
. "$(dirname "$0")/../lib.sh"

P=xlbt-k$$-
T=$(mktemp -d /tmp/xlbt-pkg.XXXXXX)
cleanup() {
	site_down
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

mk() { timeout 300 make --no-print-directory -C "$TOP" BUILD="$BUILD" "$@"; }

# ---- man pages -------------------------------------------------------
check "make man builds the pages" mk man
for page in xlbd.8 xlbctl.8 xlb-decap.8 xlb.yaml.5; do
	f=$BUILD/man/$page
	# man --warnings: groff's complaints, which lintian reports too
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$f" 2>&1 >/dev/null)
	expect_eq "man $page renders without warnings" "$([ -s "$f" ] && echo "ok$out")" ok
done
text() { MANWIDTH=200 man -l "$BUILD/man/$1" 2>/dev/null; }

# missing WORD... PAGE: the words the page does not mention
missing() {
	local page=${*: -1} body w out=
	body=$(text "$page")
	for w in "${@:1:$#-1}"; do
		grep -qF -- "$w" <<<"$body" || out+=" $w"
	done
	echo "${out:- none}"
}
# the options of a program's --help ("-c, --config", "--xdp-mode")
options() { "$1" --help 2>&1 | grep -oE '(^|[ ,])--?[a-z][a-z-]*' | tr -d ' ,' | sort -u; }
expect_eq "xlbd.8 names every option of xlbd --help" \
	"$(missing $(options "$XLBD") xlbd.8)" " none"
expect_eq "xlb-decap.8 names every option of xlb-decap --help" \
	"$(missing $(options "$BUILD/xlb-decap") xlb-decap.8)" " none"
# xlbctl: options, objects, verbs and keywords of its usage lines
ctl_words=$("$XLBCTL" --help | sed -n 's/^xlbctl //p' | tr ' |[]()' '\n\n\n\n\n\n' |
	grep -xE '[a-z][a-z0-9-]+' | sort -u)
expect_eq "xlbctl.8 names every option and word of xlbctl --help" \
	"$(missing $(options "$XLBCTL") $ctl_words xlbctl.8)" " none"
# xlb.yaml: every key of the README's config block
yaml_keys=$(awk '/^## Config file/ {on = 1} on && /^```/ {n++; if (n == 2) exit; next} on && n == 1' \
	"$TOP/README.md" | sed 's/#.*//' | grep -oE '(^|[{ ,])[a-z_0-9]+:' | tr -d '{ ,:' | sort -u)
expect_eq "the README's config block has keys" "$([ "$(wc -w <<<"$yaml_keys")" -gt 30 ] && echo yes)" yes
expect_eq "xlb.yaml.5 names every key of the README's config block" \
	"$(missing $yaml_keys xlb.yaml.5)" " none"
expect_eq "xlb.yaml.5 names every scheduler" \
	"$(missing maglev source-hash rr wrr lc wlc lt xlb.yaml.5)" " none"

# ---- make install, PREFIX ------------------------------------------
R=$T/pfx
check "make install PREFIX=... SYSCONFDIR=..." mk install PREFIX="$R/usr" SYSCONFDIR="$R/etc"
files=$(cd "$R" && find . -type f | sort | tr '\n' ' ')
expect_eq "installed files" "$files" "./etc/xlb/xlb.yaml ./usr/lib/systemd/system/xlbd.service \
./usr/sbin/xlb-decap ./usr/sbin/xlbctl ./usr/sbin/xlbd \
./usr/share/bash-completion/completions/xlbctl ./usr/share/doc/xlb/README.md \
./usr/share/doc/xlb/examples/xlb-l3.yaml ./usr/share/doc/xlb/examples/xlb-site.yaml \
./usr/share/doc/xlb/examples/xlb.yaml ./usr/share/man/man5/xlb.yaml.5 \
./usr/share/man/man8/xlb-decap.8 ./usr/share/man/man8/xlbctl.8 ./usr/share/man/man8/xlbd.8 "
unit=$R/usr/lib/systemd/system/xlbd.service
expect_eq "the unit starts the installed xlbd on the installed config" \
	"$(grep '^ExecStart=' "$unit")" "ExecStart=$R/usr/sbin/xlbd -c $R/etc/xlb/xlb.yaml"
expect_eq "the unit has no template word left" "$(grep -c @ "$unit")" 0
if command -v systemd-analyze >/dev/null; then
	# MANPATH: Documentation=man:... is checked against the installed pages
	out=$(MANPATH=$R/usr/share/man systemd-analyze verify "$unit" 2>&1)
	expect_eq "systemd-analyze verify: the unit is clean" "rc=$? $out" "rc=0 "
else
	ok "systemd-analyze verify # SKIP systemd-analyze is not installed"
fi
check "the installed xlbd --check accepts the installed config" \
	"$R/usr/sbin/xlbd" --check -c "$R/etc/xlb/xlb.yaml"
expect_eq "the installed config is examples/xlb.yaml" \
	"$(cmp "$R/etc/xlb/xlb.yaml" "$TOP/examples/xlb.yaml" && echo same)" same
expect_eq "the installed xlbctl is the build's" \
	"$("$R/usr/sbin/xlbctl" --version)" "$("$XLBCTL" --version)"

echo "# the operator's edit" >>"$R/etc/xlb/xlb.yaml"
check "make install again" mk install PREFIX="$R/usr" SYSCONFDIR="$R/etc"
expect_eq "a second install keeps the operator's config" \
	"$(tail -1 "$R/etc/xlb/xlb.yaml")" "# the operator's edit"
check "make uninstall" mk uninstall PREFIX="$R/usr" SYSCONFDIR="$R/etc"
expect_eq "make uninstall leaves only the operator's config" \
	"$(cd "$R" && find . -type f | tr '\n' ' ')" "./etc/xlb/xlb.yaml "

# ---- make install, DESTDIR -------------------------------------------
D=$T/dest
check "make install DESTDIR=..." mk install DESTDIR="$D"
expect_eq "DESTDIR: everything under it, default PREFIX /usr/local" \
	"$(ls "$D" "$D/usr/local" | tr '\n' ' ')" "$D: etc usr  $D/usr/local: lib sbin share "
expect_eq "DESTDIR: the unit names the final paths, not DESTDIR" \
	"$(grep '^ExecStart=' "$D/usr/local/lib/systemd/system/xlbd.service")" \
	"ExecStart=/usr/local/sbin/xlbd -c /etc/xlb/xlb.yaml"

# ---- bash completion -------------------------------------------------
COMP=$TOP/scripts/xlbctl.bash-completion
# comp LINE: what completing LINE's last word offers (a trailing space: a
# new word), in a shell with bash-completion loaded
comp() {
	bash --norc --noprofile -c '
		. /usr/share/bash-completion/bash_completion
		. "$1"
		COMP_LINE=$2 COMP_POINT=${#2}
		read -ra COMP_WORDS <<<"$2"
		[[ $2 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=()
		_xlbctl xlbctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		_ "$COMP" "$1" 2>&1
}
if [ -r /usr/share/bash-completion/bash_completion ]; then
	expect_eq "completion: objects" "$(comp "xlbctl ")" \
		"backend block conntrack doctor explain help lb reload stats status top vip "
	expect_eq "completion: backend's verbs" "$(comp "xlbctl backend ")" \
		"add del help set show wait "
	expect_eq "completion: a verb of a prefixed object (b: backend)" "$(comp "xlbctl b se")" "set "
	expect_eq "completion: schedulers after vip add VIP sched" \
		"$(comp "xlbctl vip add 198.18.100.20:80/tcp sched ")" "lc lt maglev rr source-hash wlc wrr "
	expect_eq "completion: nothing after a keyword that takes a value" \
		"$(comp "xlbctl vip add 198.18.100.20:80/tcp interval ")" ""
	expect_eq "completion: backend set's words" \
		"$(comp "xlbctl backend set 198.18.100.10:80/tcp 198.18.0.11 ")" \
		"disable drain enable undrain weight "
	expect_eq "completion: options" "$(comp "xlbctl --j")" "--json "
	expect_eq "completion: conntrack's verbs" "$(comp "xlbctl conntrack ")" "flush help list "
	expect_eq "completion: ct list's -n" "$(comp "xlbctl ct list 198.18.100.10:80/tcp 198.18.0.11 ")" "-n "

	# VIPs and backends, from a daemon
	site_up "$P" -n 2
	cat >"$RUN/xlb.yaml" <<EOF
interfaces: [eth0]
vips:
  - vip: 198.18.100.10:80/tcp
    health: { check: none }
    backends: [{ address: 198.18.0.11 }, { address: 198.18.0.12 }]
  - vip: "[2001:db8:100::10]:80/tcp"
    health: { check: none }
    backends: [{ address: "2001:db8::11" }]
EOF
	check_start "xlbd starts" "$RUN/xlb.yaml"
	expect_eq "completion: VIPs from the daemon" \
		"$(PATH=$BUILD:$PATH comp "xlbctl -s $SOCK backend set ")" \
		"198.18.100.10:80/tcp [2001:db8:100::10]:80/tcp "
	expect_eq "completion: a VIP's backends from the daemon" \
		"$(PATH=$BUILD:$PATH comp "xlbctl -s $SOCK backend del 198.18.100.10:80/tcp ")" \
		"198.18.0.11 198.18.0.12 "
	expect_eq "completion: an IPv6 VIP's backends" \
		"$(PATH=$BUILD:$PATH comp "xlbctl -s $SOCK b wait [2001:db8:100::10]:80/tcp ")" \
		"2001:db8::11 "
	expect_eq "completion: a VIP after its first colon (bash splits words there)" \
		"$(PATH=$BUILD:$PATH comp "xlbctl -s $SOCK vip show 198.18.100.10:8")" "80/tcp "
	expect_eq "completion: conntrack flush VIP's backends (no -n)" \
		"$(PATH=$BUILD:$PATH comp "xlbctl -s $SOCK conntrack flush 198.18.100.10:80/tcp ")" \
		"198.18.0.11 198.18.0.12 "
	expect_eq "completion: block add ... vip VIP" \
		"$(PATH=$BUILD:$PATH comp "xlbctl -s $SOCK block add 198.18.5.0/24 vip 198")" \
		"198.18.100.10:80/tcp "
	site_down
	SITE=
	expect_eq "completion: no daemon, no VIPs, no error" \
		"$(PATH=$BUILD:$PATH comp "xlbctl -s $T/none.sock backend show ")" ""
else
	ok "bash completion # SKIP bash-completion is not installed"
fi

# ---- make deb --------------------------------------------------------
if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
	ok "make deb # SKIP dpkg-dev or debhelper is not installed"
	tap_end
	exit
fi
t0=$(date +%s)
check "make deb" mk deb
echo "# make deb took $(($(date +%s) - t0)) s"
DEB=$(ls "$BUILD"/deb/xlb_*.deb 2>/dev/null | head -1)
if command -v lintian >/dev/null; then
	# errors, warnings, and info tags too (the remaining one is overridden, with its reason)
	out=$(lintian -I --fail-on error,warning,info "$DEB" 2>&1)
	rc=$?
	expect_eq "lintian: no tag" "rc=$rc $(grep -v 'root privileges' <<<"$out")" "rc=0 "
else
	ok "lintian # SKIP lintian is not installed"
fi
# each library the binaries need comes from a package Depends names
depends=$(dpkg-deb -f "$DEB" Depends)
x=$T/x
dpkg-deb -x "$DEB" "$x"
libs_missing=
for lib in $(for b in "$x"/usr/sbin/*; do
	objdump -p "$b" | awk '/NEEDED/ {print $2}'
done | sort -u); do
	pkg=$(dpkg -S "*/$lib" 2>/dev/null | head -1 | cut -d: -f1)
	tr ',|' '\n\n' <<<"$depends" | awk '{print $1}' | grep -qxF -- "$pkg" ||
		libs_missing+=" $lib($pkg)"
done
expect_eq "Depends names every linked library's package" "${libs_missing:- none}" " none"
expect_eq "the config is a conffile" "$(dpkg-deb -I "$DEB" conffiles)" /etc/xlb/xlb.yaml

# a scratch root for dpkg: its database, and a /bin/sh for the maintainer
# scripts (dpkg runs them chrooted there); the libraries come from the host
S=$T/root
mkdir -p "$S"/var/lib/dpkg/{info,updates,triggers} "$S"/bin "$S"/dev "$S"/tmp
touch "$S"/var/lib/dpkg/status
cp /bin/dash "$S/bin/sh"
for l in $(ldd /bin/dash | grep -o '/[^ ]*'); do
	mkdir -p "$S${l%/*}" && cp "$l" "$S$l"
done
mknod -m 666 "$S/dev/null" c 1 3 2>/dev/null || true
before=$(cd "$S" && find . | sort)
# --force-depends: the libraries are the host's, not the scratch root's
check "dpkg --root -i the package" dpkg --root="$S" --force-depends -i "$DEB"
expect_eq "dpkg: installed" "$(dpkg --root="$S" -s xlb 2>/dev/null | grep '^Status')" \
	"Status: install ok installed"
# make deb stamps the tree's version (the Makefile's XLB_VERSION)
expect_eq "the packaged xlbd --version is the tree's" "$("$S/usr/sbin/xlbd" --version)" \
	"xlbd $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo dev)"
out=$("$S/usr/sbin/xlbd" --check -c "$S/etc/xlb/xlb.yaml" 2>&1)
expect_eq "the packaged xlbd --check accepts the shipped config" \
	"rc=$? $out" "rc=0 $S/etc/xlb/xlb.yaml: ok (2 VIPs, 6 backends)"
expect_eq "the packaged man pages are there" \
	"$(ls "$S/usr/share/man/man8" "$S/usr/share/man/man5" | grep -c 'gz$')" 4
check "dpkg --root -r" dpkg --root="$S" -r xlb
expect_eq "after -r, the conffile stays" "$(ls "$S/etc/xlb")" xlb.yaml
check "dpkg --root -P" dpkg --root="$S" -P xlb
after=$(cd "$S" && find . -not -path './var/lib/dpkg/*' | sort)
expect_eq "after purge, nothing of the package is left" \
	"$(diff <(grep -v '^./var/lib/dpkg/' <<<"$before") <(echo "$after") && echo none)" none
expect_eq "dpkg: not installed" "$(dpkg --root="$S" -s xlb 2>&1 | grep -c '^Status: install')" 0

tap_end
