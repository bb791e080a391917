// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb_explain() against the real XDP program, on fixed cases: the exact
 * text and JSON, and that the data plane did what it said (explain_assert.h's
 * check_flow). Random flows are test_explain_random.c.
 *
 * Runs inside a network namespace made by tests/run.sh, which provides the
 * veth pair xlbt-pkt0/xlbt-pkt1: xlbt-pkt0 is in tx_ports (redirect),
 * xlbt-pkt1 is not (dropped redirect).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "explain_assert.h"

/* ---- fixed cases: the exact words ---- */

static struct tflow one_flow(const char *saddr, __u16 sport, const char *daddr,
			     __u16 dport, __u8 proto, __u8 flags)
{
	struct tflow f = { .family = strchr(saddr, ':') ? 6 : 4, .proto = proto,
			   .flags = flags, .sport = sport, .dport = dport, .payload = 10 };

	snprintf(f.saddr, sizeof(f.saddr), "%s", saddr);
	snprintf(f.daddr, sizeof(f.daddr), "%s", daddr);
	return f;
}

static void assert_steps(const struct xlb_explain *e, const char *const want[XLB_EXPLAIN_STEPS])
{
	char line[XLB_EXPLAIN_LINE_MAX];
	int i;

	for (i = 0; i < XLB_EXPLAIN_STEPS; i++) {
		xlb_explain_step(e, i, NULL, line, sizeof(line));
		assert_string_equal(line, want[i]);
	}
}

static const char *json_text(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Explain f: these steps, this JSON. */
static void assert_explained(const struct tflow *f, struct xlb_explain *e,
			     const char *const steps[XLB_EXPLAIN_STEPS], const char *json)
{
	struct json_object *obj;

	assert_int_equal(explain(f, e), 0);
	assert_steps(e, steps);
	obj = xlb_explain_json(e, NULL);
	assert_non_null(obj);
	assert_string_equal(json_text(obj), json);
	json_object_put(obj);
}

static void test_text_tx(void **state)
{
	struct tflow f = one_flow("198.18.0.1", 40000, "198.18.100.10", 80, IPPROTO_TCP, ACK);
	struct vip_key k = add_vip("198.18.100.10", 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct json_object *obj, *ct;
	struct counts c = {};
	struct xlb_explain e;
	static const char *const first[XLB_EXPLAIN_STEPS] = {
		"1. vip: 198.18.100.10:80/tcp -> VIP 198.18.100.10:80/tcp (id 0, maglev, l2dsr)",
		"2. conntrack: no entry",
		"3. hash: 5-tuple -> 0xd4f30614",
		"4. maglev: slot 0xd4f30614 % 65537 = 12578 -> backend id 1",
		"5. backend: 198.18.0.11 (id 1), in service, MAC 02:00:5e:10:00:11",
		"6. action: rewrite MACs to 02:00:5e:10:00:11 from 02:00:5e:10:00:ee, "
		"XDP_TX back out of lo; new flow: on probation until seen again",
	};
	static const char *const second[XLB_EXPLAIN_STEPS] = {
		"1. vip: 198.18.100.10:80/tcp -> VIP 198.18.100.10:80/tcp (id 0, maglev, l2dsr)",
		"2. conntrack: probation entry -> backend id 1 (gen 1), last seen 3.2 s ago: used",
		"3. hash: skipped, the connection-table entry decides",
		"4. maglev: skipped, the connection-table entry decides",
		"5. backend: 198.18.0.11 (id 1), in service, MAC 02:00:5e:10:00:11",
		"6. action: rewrite MACs to 02:00:5e:10:00:11 from 02:00:5e:10:00:ee, "
		"XDP_TX back out of lo; seen again: moved to the main table",
	};

	(void)state;
	add_backend(&k, "198.18.0.11", 0x11);
	add_backend(&k, "198.18.0.12", 0x12);
	add_backend(&k, "198.18.0.13", 0x13);

	assert_explained(&f, &e, first,
		"{\"src\":\"198.18.0.1:40000\",\"dst\":\"198.18.100.10:80/tcp\",\"steps\":["
		"{\"step\":\"vip\",\"text\":\"1. vip: 198.18.100.10:80/tcp -> VIP 198.18.100.10:80/tcp (id 0, maglev, l2dsr)\"},"
		"{\"step\":\"conntrack\",\"text\":\"2. conntrack: no entry\"},"
		"{\"step\":\"hash\",\"text\":\"3. hash: 5-tuple -> 0xd4f30614\"},"
		"{\"step\":\"maglev\",\"text\":\"4. maglev: slot 0xd4f30614 % 65537 = 12578 -> backend id 1\"},"
		"{\"step\":\"backend\",\"text\":\"5. backend: 198.18.0.11 (id 1), in service, MAC 02:00:5e:10:00:11\"},"
		"{\"step\":\"action\",\"text\":\"6. action: rewrite MACs to 02:00:5e:10:00:11 from 02:00:5e:10:00:ee, XDP_TX back out of lo; new flow: on probation until seen again\"}],"
		"\"vip\":\"198.18.100.10:80/tcp\",\"vip_id\":0,\"backend\":\"198.18.0.11\",\"backend_id\":1,"
		"\"action\":\"XDP_TX\",\"reason\":\"tx\",\"hash\":\"0xd4f30614\",\"slot\":12578,"
		"\"conntrack\":null,\"new_entry\":true,\"promoted\":false}");
	check_flow(&f, &c);

	/* the next packet, 3.2 s later, follows the entry it left */
	*fixture_clock(&F) += 3200 * 1000000ULL;
	assert_int_equal(explain(&f, &e), 0);
	assert_steps(&e, second);
	obj = xlb_explain_json(&e, "eth0");
	assert_non_null(obj);
	assert_true(json_object_object_get_ex(obj, "conntrack", &ct));
	assert_string_equal(json_text(ct),
		"{\"backend_id\":1,\"backend_gen\":1,\"table\":\"probation\","
		"\"state\":\"established\",\"age_ms\":3204,\"used\":true,\"why\":null}");
	assert_true(json_object_object_get_ex(obj, "hash", &ct));
	assert_null(ct);
	assert_true(json_object_object_get_ex(obj, "backend_id", &ct));
	assert_int_equal(json_object_get_int(ct), 1);
	assert_true(json_object_object_get_ex(obj, "steps", &ct));
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(ct, 5), "text")),
			    "6. action: rewrite MACs to 02:00:5e:10:00:11 from 02:00:5e:10:00:ee, "
			    "XDP_TX back out of eth0; seen again: moved to the main table");
	json_object_put(obj);
	check_flow(&f, &c);
	assert_int_equal(c.tx, 2);
	assert_int_equal(c.ct_used, 1);
}

static void test_text_pass(void **state)
{
	struct tflow f = one_flow("198.18.0.1", 40000, "198.18.100.10", 81, IPPROTO_TCP, ACK);
	struct vip_key k = add_vip("198.18.100.10", 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct counts c = {};
	struct xlb_explain e;
	static const char *const no_port[XLB_EXPLAIN_STEPS] = {
		"1. vip: 198.18.100.10:81/tcp: VIP address, but no VIP for this port/protocol",
		"2. conntrack: no entry",
		"3. hash: skipped, no VIP",
		"4. maglev: skipped, no VIP",
		"5. backend: skipped, no VIP",
		"6. action: XDP_PASS to the host's stack "
		"(pass_vip_no_port: no VIP for this port/protocol)",
	};
	static const char *const non_vip[XLB_EXPLAIN_STEPS] = {
		"1. vip: 198.18.100.99:80/tcp: not a VIP address",
		"2. conntrack: not looked up (not a VIP address)",
		"3. hash: skipped, not a VIP address",
		"4. maglev: skipped, not a VIP address",
		"5. backend: skipped, not a VIP address",
		"6. action: XDP_PASS to the host's stack (pass_non_vip: not a VIP address)",
	};

	(void)state;
	add_backend(&k, "198.18.0.11", 0x11);
	assert_explained(&f, &e, no_port,
		"{\"src\":\"198.18.0.1:40000\",\"dst\":\"198.18.100.10:81/tcp\",\"steps\":["
		"{\"step\":\"vip\",\"text\":\"1. vip: 198.18.100.10:81/tcp: VIP address, but no VIP for this port/protocol\"},"
		"{\"step\":\"conntrack\",\"text\":\"2. conntrack: no entry\"},"
		"{\"step\":\"hash\",\"text\":\"3. hash: skipped, no VIP\"},"
		"{\"step\":\"maglev\",\"text\":\"4. maglev: skipped, no VIP\"},"
		"{\"step\":\"backend\",\"text\":\"5. backend: skipped, no VIP\"},"
		"{\"step\":\"action\",\"text\":\"6. action: XDP_PASS to the host's stack (pass_vip_no_port: no VIP for this port/protocol)\"}],"
		"\"vip\":null,\"vip_id\":null,\"backend\":null,\"backend_id\":null,"
		"\"action\":\"XDP_PASS\",\"reason\":\"pass_vip_no_port\",\"hash\":null,\"slot\":null,"
		"\"conntrack\":null,\"new_entry\":false,\"promoted\":false}");
	check_flow(&f, &c);

	f = one_flow("198.18.0.1", 40000, "198.18.100.99", 80, IPPROTO_TCP, ACK);
	assert_int_equal(explain(&f, &e), 0);
	assert_steps(&e, non_vip);
	check_flow(&f, &c);
	assert_int_equal(c.pass_no_port, 1);
	assert_int_equal(c.pass_non_vip, 1);
}

static void test_text_drop(void **state)
{
	struct tflow f = one_flow("2001:db8::1", 40000, "2001:db8:100::10", 443,
				  IPPROTO_TCP, SYN);
	struct vip_key k = add_vip("2001:db8:100::10", 443, IPPROTO_TCP,
				   XLB_SCHED_SOURCE_HASH);
	char line[XLB_EXPLAIN_LINE_MAX];
	struct counts c = {};
	struct xlb_explain e;
	struct backend be;
	__u32 id;
	static const char *const want[XLB_EXPLAIN_STEPS] = {
		"1. vip: [2001:db8:100::10]:443/tcp -> VIP [2001:db8:100::10]:443/tcp "
		"(id 0, source-hash, l2dsr)",
		"2. conntrack: no entry",
		"3. hash: client address 2001:db8::1 -> 0x42e00808",
		"4. maglev: slot 0x42e00808 % 65537 = 50473 -> empty slot",
		"5. backend: none",
		"6. action: XDP_DROP (drop_no_backend: no backend in service)",
	};

	(void)state;
	/* its only backend removed: the table is all empty slots */
	add_backend(&k, "2001:db8::11", 0x11);
	fx_backend_del(&F, &k, "2001:db8::11");
	assert_explained(&f, &e, want,
		"{\"src\":\"[2001:db8::1]:40000\",\"dst\":\"[2001:db8:100::10]:443/tcp\",\"steps\":["
		"{\"step\":\"vip\",\"text\":\"1. vip: [2001:db8:100::10]:443/tcp -> VIP [2001:db8:100::10]:443/tcp (id 0, source-hash, l2dsr)\"},"
		"{\"step\":\"conntrack\",\"text\":\"2. conntrack: no entry\"},"
		"{\"step\":\"hash\",\"text\":\"3. hash: client address 2001:db8::1 -> 0x42e00808\"},"
		"{\"step\":\"maglev\",\"text\":\"4. maglev: slot 0x42e00808 % 65537 = 50473 -> empty slot\"},"
		"{\"step\":\"backend\",\"text\":\"5. backend: none\"},"
		"{\"step\":\"action\",\"text\":\"6. action: XDP_DROP (drop_no_backend: no backend in service)\"}],"
		"\"vip\":\"[2001:db8:100::10]:443/tcp\",\"vip_id\":0,\"backend\":null,\"backend_id\":null,"
		"\"action\":\"XDP_DROP\",\"reason\":\"drop_no_backend\",\"hash\":\"0x42e00808\",\"slot\":50473,"
		"\"conntrack\":null,\"new_entry\":false,\"promoted\":false}");
	check_flow(&f, &c);

	/*
	 * A slot naming a backend that no longer keeps flows: lb.c never
	 * leaves one (the table changes first), so write the map by hand.
	 */
	k = add_vip("198.18.100.10", 80, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	id = add_backend(&k, "198.18.0.21", 0x21);
	assert_int_equal(xlb_dp_backend_get(&F.dp, id, &be), 0);
	be.flags = 0;
	assert_int_equal(xlb_dp_backend_set(&F.dp, id, &be), 0);
	f = one_flow("198.18.0.1", 40000, "198.18.100.10", 80, IPPROTO_UDP, 0);
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 4, NULL, line, sizeof(line));
	assert_string_equal(line, "5. backend: 198.18.0.21 (id 2), not in service");
	xlb_explain_step(&e, 5, NULL, line, sizeof(line));
	assert_string_equal(line, "6. action: XDP_DROP (drop_no_backend: no backend in service)");
	check_flow(&f, &c);
	assert_int_equal(c.drop_no_backend, 2);
}

/*
 * Redirects by name and index, an entry exactly at its idle timeout (used),
 * two ticks past it (timeouts are whole ticks, rounded up: never early), and
 * one stamped after now (another CPU's later
 * stamp: the program's signed age keeps it fresh).
 */
static void test_text_redirect_and_idle(void **state)
{
	struct tflow f = one_flow("198.18.0.1", 40000, "198.18.100.10", 53, IPPROTO_UDP, 0);
	struct vip_key k = add_vip("198.18.100.10", 53, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	__u32 pkt0 = egress_ifindex("xlbt-pkt0"), pkt1 = egress_ifindex("xlbt-pkt1");
	char line[XLB_EXPLAIN_LINE_MAX], want[XLB_EXPLAIN_LINE_MAX];
	struct xlb_lb_vip *vip = xlb_lb_vip_find(F.lb, &k);
	struct counts c = {};
	struct xlb_explain e;
	__u64 t0;

	(void)state;
	add_backend_on(&k, "198.18.0.31", 0x31, pkt1);
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 5, NULL, line, sizeof(line));
	snprintf(want, sizeof(want),
		 "6. action: XDP_DROP (drop_redirect: egress xlbt-pkt1, ifindex %u, "
		 "is not in tx_ports); new flow: on probation until seen again", pkt1);
	assert_string_equal(line, want);
	check_flow(&f, &c);

	/* its entry outlives the move: the new backend gets new flows only */
	assert_non_null(vip);
	vip->backends[0].spec.ifindex = pkt0;
	assert_int_equal(xlb_lb_backend_update(F.lb, &k, &vip->backends[0].spec), 0);
	assert_int_equal(xlb_dp_tx_port_add(&F.dp, pkt0), 0);
	t0 = *fixture_clock(&F);
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 5, NULL, line, sizeof(line));
	snprintf(want, sizeof(want),
		 "6. action: rewrite MACs to 02:00:5e:10:00:31 from 02:00:5e:10:00:ee, "
		 "XDP_REDIRECT out of xlbt-pkt0 (ifindex %u); seen again: moved to the main table",
		 pkt0);
	assert_string_equal(line, want);
	check_flow(&f, &c);

	*fixture_clock(&F) = t0 + UDP_IDLE;
	assert_int_equal(explain(&f, &e), 0);
	assert_true(e.ct_used);
	check_flow(&f, &c);

	*fixture_clock(&F) += UDP_IDLE + 2 * (1ULL << XLB_TICK_SHIFT);
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 1, NULL, line, sizeof(line));
	assert_string_equal(line, "2. conntrack: main entry -> backend id 1 (gen 1), "
				  "last seen 30.0 s ago: not used, idle 30.031 s > 30 s");
	check_flow(&f, &c);

	/* 50 ms back: another CPU's stamp may be that far ahead (3 ticks of 16.8 ms) */
	t0 = *fixture_clock(&F);
	*fixture_clock(&F) -= 50 * 1000000ULL;
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 1, NULL, line, sizeof(line));
	assert_string_equal(line, "2. conntrack: main entry -> backend id 1 (gen 1), "
				  "last seen 0.0 s in the future: used");
	check_flow(&f, &c);
	/* 1.5 s back: no CPU is that far ahead; the stamp is from before a wrap, long idle */
	*fixture_clock(&F) = t0 - 1500 * 1000000ULL;
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 1, NULL, line, sizeof(line));
	assert_string_equal(line, "2. conntrack: main entry -> backend id 1 (gen 1), "
				  "last seen 1.4 s in the future: not used, stamped more than 4 "
				  "ticks after now");
	check_flow(&f, &c);
	assert_int_equal(c.drop_redirect, 1);
	assert_int_equal(c.redirect, 5);
	assert_int_equal(c.ct_used, 3);
	assert_int_equal(c.why_idle, 1);
}

/*
 * The program consults the connection table before the VIP, whenever the
 * address filter bit is set: an entry (made by hand here) is followed even
 * to an address that only shares a VIP's bit, and ignored when the bit is
 * clear. An entry naming a backend id beyond the map is not used.
 */
static void test_entry_before_vip(void **state)
{
	struct vip_key k = add_vip("198.18.100.10", 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct flow_state entry = { .backend_gen = 1 };
	struct tflow f;
	struct flow_key key;
	struct counts c = {};
	struct xlb_explain e;
	char line[XLB_EXPLAIN_LINE_MAX], want[XLB_EXPLAIN_LINE_MAX];
	char collide4[INET6_ADDRSTRLEN];

	(void)state;
	entry.backend_id = add_backend(&k, "198.18.0.11", 0x11);
	entry.seen = XLB_NS_TO_TICKS(*fixture_clock(&F));
	find_collision("198.18.100.10", "10.200.0.0", collide4);

	f = one_flow("198.18.0.1", 40000, collide4, 80, IPPROTO_TCP, ACK);
	flow_key_of(&f, &key);
	assert_int_equal(xlb_dp_flow_set(&F.dp, &key, &entry), 0);
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 0, NULL, line, sizeof(line));
	snprintf(want, sizeof(want),
		 "1. vip: %s:80/tcp: not a VIP address (shares a filter bit with one)", collide4);
	assert_string_equal(line, want);
	xlb_explain_step(&e, 1, NULL, line, sizeof(line));
	assert_string_equal(line, "2. conntrack: main entry -> backend id 1 (gen 1), "
				  "last seen 0.0 s ago: used");
	assert_int_equal(e.action, XDP_TX);
	check_flow(&f, &c);

	f = one_flow("198.18.0.1", 40000, "198.18.100.99", 80, IPPROTO_TCP, ACK);
	flow_key_of(&f, &key);
	assert_int_equal(xlb_dp_flow_set(&F.dp, &key, &entry), 0);
	assert_int_equal(explain(&f, &e), 0);
	assert_false(e.ct_looked_up);
	assert_int_equal(e.reason, XLB_STAT_PASS_NON_VIP);
	check_flow(&f, &c);

	f = one_flow("198.18.0.1", 40000, "198.18.100.10", 80, IPPROTO_TCP, SYN);
	flow_key_of(&f, &key);
	entry.backend_id = XLB_MAX_BACKENDS + 1;
	assert_int_equal(xlb_dp_flow_set(&F.dp, &key, &entry), 0);
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 1, NULL, line, sizeof(line));
	snprintf(want, sizeof(want), "2. conntrack: main entry -> backend id %u (gen 1), "
		 "last seen 0.0 s ago: not used, backend id %u is out of range",
		 XLB_MAX_BACKENDS + 1, XLB_MAX_BACKENDS + 1);
	assert_string_equal(line, want);
	xlb_explain_step(&e, 5, NULL, line, sizeof(line));
	assert_string_equal(line, "6. action: rewrite MACs to 02:00:5e:10:00:11 from "
				  "02:00:5e:10:00:ee, XDP_TX back out of lo; "
				  "main-table entry rewritten with the new pick");
	check_flow(&f, &c);
	assert_int_equal(c.tx, 2);
	assert_int_equal(c.ct_used, 1);
	assert_int_equal(c.ct_unused, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_text_tx),
		T(test_text_pass),
		T(test_text_drop),
		T(test_text_redirect_and_idle),
		T(test_entry_before_vip),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
