# xlb: XDP/eBPF L4 load balancer.  `make V=1` shows every command.

BUILD    ?= build
ARCH_INC := /usr/include/$(shell gcc -dumpmachine)

CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= gcc

BPF_CFLAGS := -g -O2 -target bpf -Wall -Werror -I$(ARCH_INC) $(BPF_EXTRA)
CFLAGS     ?= -O2 -g
CFLAGS     += -std=gnu11 -Wall -Wextra -Werror -I$(BUILD)
LDLIBS     := -lbpf -lelf -lz
DAEMON_LIBS := -lcyaml -lyaml -ljson-c -lcurl -lmnl -lmicrohttpd

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_HDRS  := $(wildcard bpf/*.h) maps/xlb_maps.h
LIB_SRCS  := user/dataplane.c user/lb.c user/maglev.c user/syntax.c user/config.c \
	     user/proto.c user/state.c user/health.c user/neigh.c user/attach.c \
	     user/metrics.c \
	     user/explain.c
LIB_HDRS  := $(wildcard user/*.h) maps/xlb_maps.h bpf/hash.h
LIB       := $(BUILD)/libxlb.a

PROGS     := $(BUILD)/xlbd $(BUILD)/xlbctl $(BUILD)/xlb-decap
TEST_BINS := $(BUILD)/test_maglev $(BUILD)/test_packets $(BUILD)/test_syntax \
	     $(BUILD)/test_config $(BUILD)/test_proto $(BUILD)/test_health \
	     $(BUILD)/test_metrics \
	     $(BUILD)/probe $(BUILD)/pass.bpf.o $(BUILD)/test_explain \
	     $(BUILD)/test_decap $(BUILD)/test_encap
BENCH_BIN := $(BUILD)/bench

.PHONY: all deps test bench clean variant demo
.DELETE_ON_ERROR:

all: $(BUILD)/xlb.bpf.o $(BUILD)/xlb.skel.h $(LIB) $(PROGS) $(TEST_BINS) $(BENCH_BIN) variant

# A rebuilt data plane with other code and the same maps: the end-to-end
# tests upgrade a running one to it.
variant:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/variant \
		BPF_EXTRA=-DXLB_MAX_EXT_HDRS=5 $(BUILD)/variant/xlbd

deps:
	$(Q)bash scripts/deps.sh

$(BUILD):
	$(Q)mkdir -p $@

# BPF objects and their skeletons
$(BUILD)/xlb.bpf.o: bpf/xlb.bpf.c $(BPF_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench.bpf.o: tests/bench/bench.bpf.c bpf/xlb.bpf.c $(BPF_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# backend-side decapsulation for L3 DSR
$(BUILD)/decap.bpf.o: bpf/decap.bpf.c $(BPF_HDRS) maps/decap_maps.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# user-space library
$(BUILD)/%.o: user/%.c $(LIB_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/attach.o: $(BUILD)/xlb.skel.h

$(LIB): $(patsubst user/%.c,$(BUILD)/%.o,$(LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

# programs
XLB_VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

$(BUILD)/xlbd: user/xlbd.c $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -DXLB_VERSION='"$(XLB_VERSION)"' $< $(LIB) -o $@ $(DAEMON_LIBS) $(LDLIBS)

$(BUILD)/xlbctl: user/xlbctl.c $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB) -o $@ -ljson-c -lncursesw

$(BUILD)/xlb-decap: user/xlb-decap.c maps/decap_maps.h $(BUILD)/decap.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ -ljson-c $(LDLIBS)

# tests and benchmark
$(BUILD)/test_%: tests/unit/test_%.c $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser $< $(LIB) -o $@ -lcmocka $(DAEMON_LIBS) $(LDLIBS)

$(BUILD)/test_packets: tests/packet/test_packets.c tests/packet/pkt.c tests/packet/pkt.h \
		tests/packet/xlb_check.h \
		$(BUILD)/xlb.skel.h $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) tests/packet/test_packets.c tests/packet/pkt.c $(LIB) -o $@ -lcmocka $(LDLIBS)

$(BUILD)/test_explain: tests/packet/test_explain.c tests/packet/pkt.c tests/packet/pkt.h \
		$(BUILD)/xlb.skel.h $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) tests/packet/test_explain.c tests/packet/pkt.c $(LIB) -o $@ \
		-lcmocka -ljson-c $(LDLIBS)

$(BUILD)/test_encap: tests/packet/test_encap.c tests/packet/pkt.c tests/packet/pkt.h \
		tests/packet/xlb_check.h \
		$(BUILD)/xlb.skel.h $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) tests/packet/test_encap.c tests/packet/pkt.c $(LIB) -o $@ -lcmocka -ljson-c $(LDLIBS)

$(BUILD)/test_decap: tests/packet/test_decap.c tests/packet/pkt.c tests/packet/pkt.h \
		maps/decap_maps.h $(BUILD)/decap.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) tests/packet/test_decap.c tests/packet/pkt.c -o $@ -lcmocka $(LDLIBS)

$(BUILD)/probe: tests/daemon/probe.c tests/packet/pkt.c tests/packet/pkt.h $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) tests/daemon/probe.c tests/packet/pkt.c $(LIB) -o $@ $(LDLIBS)

$(BUILD)/pass.bpf.o: bpf/pass.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_BIN): tests/bench/bench.c tests/packet/pkt.c tests/packet/pkt.h \
		$(BUILD)/bench.skel.h $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) tests/bench/bench.c tests/packet/pkt.c $(LIB) -o $@ $(LDLIBS)

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tests/run.sh $(BUILD)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tests/bench/run.sh $(BUILD)

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)
