#!/usr/bin/env bash
# Run every test suite; print each suite's results and, last and alone on
# its line, the total: "N passed, M failed[, K skipped]". Exit 1 on failure.
set -u
build=$(cd "${1:-build}" && pwd)
only_unit=0 only_unit_packet=0
[ "${2:-}" = --unit ] && only_unit=1 # make check: no root, no namespaces
# make asan: the unit and packet suites only, not the daemon's nor the fuzzers
[ "${2:-}" = --unit-packet ] && only_unit_packet=1
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0 skipped=0
ns="xlbt-pkt-$$"

cleanup() {
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# count_tap SUITE RC OUTPUT: add a suite's TAP results to the totals.
count_tap() {
	local suite=$1 rc=$2 out=$3 ok notok skip
	ok=$(grep -cE '^ok [0-9]+' <<<"$out" || true)
	skip=$(grep -cE '^ok [0-9]+.*# (SKIP|skip)' <<<"$out" || true)
	notok=$(grep -cE '^not ok [0-9]+' <<<"$out" || true)
	ok=$((ok - skip))
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		echo "$suite: exited with status $rc before reporting a failure"
		notok=1
	fi
	printf '%s: %d passed, %d failed, %d skipped\n' "$suite" "$ok" "$notok" "$skip"
	passed=$((passed + ok)) failed=$((failed + notok)) skipped=$((skipped + skip))
}

# run_suite NAME CMD...: run a TAP-speaking suite, show its output.
run_suite() {
	local suite=$1 out rc
	shift
	echo "== $suite"
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP timeout 600 "$@" 2>&1)
	rc=$?
	sed 's/^/  /' <<<"$out"
	count_tap "$suite" "$rc" "$out"
}

run_suite unit-maglev "$build/test_maglev"
run_suite unit-syntax "$build/test_syntax"
run_suite unit-config "$build/test_config"
run_suite unit-validate "$build/test_validate"
run_suite unit-state "$build/test_state"
run_suite unit-prom "$build/test_prom"
run_suite unit-proto "$build/test_proto"
run_suite unit-handoff "$build/test_handoff"
run_suite unit-doctor-findings "$build/test_doctor_findings"
run_suite unit-doctor-xdp "$build/test_doctor_xdp"
run_suite unit-xlbctl env XLBCTL="$build/xlbctl" "$build/test_xlbctl"
run_suite unit-xlbctl-top env XLBCTL="$build/xlbctl" "$build/test_xlbctl_top"
if [ "$only_unit" -eq 0 ]; then
	run_suite unit-health bash "$here/unit/in_netns.sh" "$build/test_health"
	run_suite unit-via bash "$here/unit/in_netns.sh" "$build/test_via"
	run_suite unit-metrics bash "$here/unit/in_netns.sh" "$build/test_metrics"
	run_suite unit-metrics-limits bash "$here/unit/in_netns.sh" "$build/test_metrics_limits"

	# Packet tests run in their own namespace, with a veth pair to redirect to.
	if ip netns add "$ns" &&
		ip -n "$ns" link add xlbt-pkt0 type veth peer name xlbt-pkt1 &&
		ip -n "$ns" link set xlbt-pkt0 up && ip -n "$ns" link set xlbt-pkt1 up &&
		ip -n "$ns" link set lo up; then
		run_suite packet ip netns exec "$ns" "$build/test_packets"
		run_suite headers ip netns exec "$ns" "$build/test_headers"
		run_suite decap ip netns exec "$ns" "$build/test_decap"
		run_suite encap ip netns exec "$ns" "$build/test_encap"
		run_suite icmp-route ip netns exec "$ns" "$build/test_icmp_route"
		run_suite explain ip netns exec "$ns" "$build/test_explain"
		run_suite explain-random ip netns exec "$ns" "$build/test_explain_random"
		run_suite conntrack ip netns exec "$ns" "$build/test_conntrack"
		run_suite sched ip netns exec "$ns" "$build/test_sched"
		run_suite block ip netns exec "$ns" "$build/test_block"
		run_suite limits ip netns exec "$ns" "$build/test_limits"
	else
		echo "packet: cannot create namespace $ns"
		failed=$((failed + 1))
	fi
fi
if [ "$only_unit" -eq 0 ] && [ "$only_unit_packet" -eq 0 ]; then
	run_suite daemon env BUILD="$build" bash "$here/daemon/test_daemon.sh"
	run_suite daemon-validate env BUILD="$build" bash "$here/daemon/test_validate.sh"
	run_suite daemon-reload env BUILD="$build" bash "$here/daemon/test_reload.sh"
	run_suite digest env BUILD="$build" bash "$here/daemon/test_digest.sh"
	run_suite announce env BUILD="$build" bash "$here/daemon/test_announce.sh"
	run_suite daemon-rebuild env BUILD="$build" bash "$here/daemon/test_rebuild.sh"
	run_suite daemon-ops env BUILD="$build" bash "$here/daemon/test_ops.sh"
	run_suite conntrack-cli env BUILD="$build" bash "$here/daemon/test_conntrack.sh"
	run_suite daemon-log env BUILD="$build" bash "$here/daemon/test_log.sh"
	run_suite e2e env BUILD="$build" bash "$here/e2e/test_e2e.sh"
	run_suite upgrade-ct env BUILD="$build" bash "$here/e2e/test_upgrade_ct.sh"
	run_suite counts env BUILD="$build" bash "$here/e2e/test_counts.sh"
	run_suite drain env BUILD="$build" bash "$here/e2e/test_drain.sh"
	run_suite sched-e2e env BUILD="$build" bash "$here/e2e/test_sched.sh"
	run_suite relink env BUILD="$build" bash "$here/e2e/test_relink.sh"
	run_suite teardown env BUILD="$build" bash "$here/e2e/test_teardown.sh"
	run_suite neigh env BUILD="$build" bash "$here/e2e/test_neigh.sh"
	run_suite check-via env BUILD="$build" bash "$here/e2e/test_check_via.sh"
	run_suite l3dsr env BUILD="$build" bash "$here/e2e/test_l3dsr.sh"
	run_suite doctor env BUILD="$build" bash "$here/e2e/test_doctor.sh"
	run_suite site env BUILD="$build" bash "$here/e2e/test_site.sh"
	run_suite ecmp env BUILD="$build" bash "$here/e2e/test_ecmp.sh"
	run_suite flood env BUILD="$build" bash "$here/e2e/test_flood.sh"
	run_suite e2e-block env BUILD="$build" bash "$here/e2e/test_block.sh"
	run_suite e2e-limits env BUILD="$build" bash "$here/e2e/test_limits.sh"
	run_suite decap-cli env BUILD="$build" bash "$here/decap/test_decap_cli.sh"
	run_suite observe env BUILD="$build" bash "$here/obs/test_observe.sh"
	run_suite metrics-attack env BUILD="$build" bash "$here/obs/test_metrics_attack.sh"
	run_suite pkg env BUILD="$build" bash "$here/pkg/test_pkg.sh"
	run_suite fuzz bash "$here/fuzz/run.sh" "$build" "${FUZZ_TEST_TIME:-20}"
fi

echo
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
