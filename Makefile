# xlb: XDP/eBPF L4 load balancer.  `make V=1` shows every command.
#
# Layout: bpf/ (data plane), maps/ (the kernel/user contract), user/lib/
# (the library), one folder per program under user/, tests/.

BUILD    ?= build
ARCH_INC := /usr/include/$(shell gcc -dumpmachine)

CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= gcc

BPF_CFLAGS := -g -O2 -target bpf -Wall -Werror -I$(ARCH_INC) $(BPF_EXTRA)
CFLAGS     ?= -O2 -g
# override: a command-line CFLAGS (make CFLAGS=-O0) adds to these, not replaces them
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -I$(BUILD) -Iuser/lib $(USER_EXTRA)
DEPFLAGS    = -MMD -MP -MF $@.d
LDLIBS     := -lbpf -lelf -lz -lcrypto
DAEMON_LIBS := -lcyaml -lyaml -ljson-c -lcurl -lmnl -lmicrohttpd -lsystemd

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

OBJ       := $(BUILD)/obj
objs       = $(patsubst %.c,$(OBJ)/%.o,$(1))

LIB_SRCS  := $(wildcard user/lib/*.c)
LIB       := $(BUILD)/libxlb.a
SKELS     := $(BUILD)/xlb.skel.h $(BUILD)/decap.skel.h $(BUILD)/bench.skel.h \
	     $(BUILD)/live.skel.h

PROGS     := $(BUILD)/xlbd $(BUILD)/xlbctl $(BUILD)/xlb-decap
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/%,$(wildcard tests/unit/test_*.c))
PKT_TESTS := $(patsubst tests/packet/%.c,$(BUILD)/%,$(wildcard tests/packet/test_*.c))
TEST_BINS := $(UNIT_TESTS) $(PKT_TESTS) $(BUILD)/probe $(BUILD)/pass.bpf.o
BENCH_BIN := $(BUILD)/bench $(BUILD)/xlb-gen $(BUILD)/xlb-live-bench

.PHONY: all deps test check bench bench-live clean variant demo
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/xlb.bpf.o $(SKELS) $(LIB) $(PROGS) $(TEST_BINS) $(BENCH_BIN) variant

# A rebuilt data plane with one more counter and one more map, and the same
# maps otherwise: the end-to-end tests upgrade a running one to it. Its
# cap of health.via: vip is 8 (test_check_via.sh fills it).
variant:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/variant \
		BPF_EXTRA=-DXLB_VARIANT USER_EXTRA="-DXLB_VARIANT -DXLB_VIA_MAX=8" $(BUILD)/variant/xlbd

deps:
	$(Q)bash scripts/deps.sh

# BPF objects and their skeletons; headers tracked by -MMD
$(BUILD)/%.bpf.o: bpf/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/bench.bpf.o $(BUILD)/live.bpf.o: $(BUILD)/%.bpf.o: tests/bench/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# every user-space object; skeletons first, since some objects include them
$(OBJ)/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB): $(call objs,$(LIB_SRCS)) $(OBJ)/version.o
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# The build's version in one generated object, rewritten only when it
# changes: every program reports the same, however little was rebuilt.
XLB_VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
$(BUILD)/version.c: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)printf 'const char xlb_version[] = "%s";\n' '$(XLB_VERSION)' >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(OBJ)/version.o: $(BUILD)/version.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

.PHONY: FORCE
FORCE:

# programs: one folder each

$(BUILD)/xlbd: $(call objs,$(wildcard user/xlbd/*.c)) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(DAEMON_LIBS) $(LDLIBS)

$(BUILD)/xlbctl: $(call objs,$(wildcard user/xlbctl/*.c)) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ -ljson-c -lncursesw -lmnl

$(BUILD)/xlb-decap: $(call objs,$(wildcard user/xlb-decap/*.c)) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ -ljson-c $(LDLIBS)

# tests and benchmark: each test_*.c is one binary; the packet tests share
# tests/packet's helpers (pkt.c, fixture.c, ...), an archive, so each binary
# takes only the helpers it calls
PKT_LIB := $(BUILD)/libpkt.a

$(PKT_LIB): $(call objs,$(filter-out tests/packet/test_%.c,$(wildcard tests/packet/*.c)))
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD)/test_%: $(OBJ)/tests/unit/test_%.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ -lcmocka $(DAEMON_LIBS) $(LDLIBS)

$(BUILD)/test_%: $(OBJ)/tests/packet/test_%.o $(PKT_LIB) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ -lcmocka -ljson-c $(LDLIBS)

$(BUILD)/probe: $(OBJ)/tests/daemon/probe.o $(PKT_LIB) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ -ljson-c $(LDLIBS)

$(BUILD)/bench: $(OBJ)/tests/bench/bench.o $(PKT_LIB) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ -ljson-c $(LDLIBS)

# the live-traffic generator, and the live rows of make bench that drive it
$(BUILD)/xlb-gen: $(OBJ)/tests/bench/live.o $(OBJ)/tests/bench/live_gen.o $(PKT_LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ -lpthread $(LDLIBS)

$(BUILD)/xlb-live-bench: $(OBJ)/tests/bench/live_bench.o $(OBJ)/tests/bench/live_gen.o \
		$(PKT_LIB) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ -lpthread -ljson-c $(LDLIBS)

-include $(shell find $(BUILD) -name '*.d' -not -path '$(BUILD)/variant/*' 2>/dev/null)

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tests/run.sh $(BUILD)

# the quick edit loop: unit tests that need neither root nor namespaces
check:
	$(Q)$(MAKE) --no-print-directory $(PROGS) $(UNIT_TESTS)
	$(Q)bash tests/run.sh $(BUILD) --unit

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tests/bench/run.sh $(BUILD)

# the live rows alone (make bench runs them too): printed, docs/ untouched
bench-live: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tests/bench/live.sh $(BUILD)

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

# ---- sanitizers and fuzzers (tests/fuzz/) -----------------------------
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=undefined

.PHONY: asan asan-bins fuzz fuzzers

# The unit and packet suites, built with gcc under ASan and UBSan.
asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/asan CFLAGS='-O1 -g $(SAN_FLAGS)' asan-bins
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		bash tests/run.sh $(BUILD)/asan --unit-packet

asan-bins: $(PROGS) $(UNIT_TESTS) $(PKT_TESTS)

# libFuzzer harnesses: clang, the library sources built again with
# coverage (fuzzer-no-link), one binary per tests/fuzz/fuzz_*.c.
FUZZ      := $(BUILD)/fuzz
FUZZ_CFLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Werror -I$(BUILD) -Iuser/lib $(SAN_FLAGS)
FUZZ_LIB  := $(FUZZ)/libxlb-fuzz.a
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TIME ?= 300

$(FUZZ)/obj/%.o: %.c | $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@

$(FUZZ_LIB): $(patsubst %.c,$(FUZZ)/obj/%.o,$(LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(FUZZ)/fuzz_%: $(FUZZ)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	$(call msg,LD-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ -o $@ $(DAEMON_LIBS) $(LDLIBS)

fuzzers: $(FUZZ_BINS)
all: fuzzers

# Longer runs than make test's, on a corpus kept in $(FUZZ)/corpus that grows
# from run to run; crashing inputs land in $(FUZZ)/findings.
fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzzers
	$(Q)bash tests/fuzz/run.sh $(BUILD) $(FUZZ_TIME) --keep

# ---- make install, make uninstall, make deb, man pages ----------------
include scripts/install.mk
