# Installing and packaging (included by the Makefile): man pages, make
# install / uninstall (PREFIX, DESTDIR), make deb.

PREFIX     ?= /usr/local
# root's commands, as ipvsadm: every one needs CAP_BPF or the root-only socket
SBINDIR    ?= $(PREFIX)/sbin
# xlbd's built-in default is /etc/xlb/xlb.yaml, whatever the prefix
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/xlb
UNITDIR    ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

MAN_SRCS  := $(wildcard docs/man/*.scd)
MANS      := $(patsubst docs/man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))
UNIT      := $(BUILD)/xlbd.service

.PHONY: man progs install uninstall deb

all: man
man: $(MANS)
progs: $(PROGS)

$(BUILD)/man/%: docs/man/%.scd
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)scdoc <$< >$@

# the unit names the installed paths; rebuilt when they change
$(UNIT): scripts/xlbd.service.in FORCE
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		-e 's|@DOCDIR@|$(DOCDIR)|g' $< >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

.PHONY: FORCE
FORCE:

# The config is installed only when absent: never over an operator's.
install: $(PROGS) $(MANS) $(UNIT)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(SYSCONFDIR)/xlb
	$(Q)install -m 0755 $(PROGS) $(DESTDIR)$(SBINDIR)/
	$(Q)install -m 0644 $(filter %.5,$(MANS)) $(DESTDIR)$(MANDIR)/man5/
	$(Q)install -m 0644 $(filter %.8,$(MANS)) $(DESTDIR)$(MANDIR)/man8/
	$(Q)install -m 0644 $(UNIT) $(DESTDIR)$(UNITDIR)/xlbd.service
	$(Q)install -m 0644 scripts/xlbctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/xlbctl
	$(Q)install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	$(Q)install -m 0644 examples/*.yaml $(DESTDIR)$(DOCDIR)/examples/
	$(Q)if [ -e $(DESTDIR)$(SYSCONFDIR)/xlb/xlb.yaml ]; then \
		echo "  KEEP     $(DESTDIR)$(SYSCONFDIR)/xlb/xlb.yaml"; \
	else install -m 0644 examples/xlb.yaml $(DESTDIR)$(SYSCONFDIR)/xlb/xlb.yaml; fi

# Leaves the config (and xlbd's state in /var/lib/xlb): they are the operator's.
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(PROGS))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(filter %.5,$(MANS)))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(filter %.8,$(MANS)))) \
		$(DESTDIR)$(UNITDIR)/xlbd.service $(DESTDIR)$(BASHCOMPDIR)/xlbctl \
		$(DESTDIR)$(DOCDIR)/README.md $(addprefix $(DESTDIR)$(DOCDIR)/,$(wildcard examples/*.yaml))
	$(Q)rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# The package is built from a copy of the tree in $(BUILD)/deb, so that
# dpkg-buildpackage's output (it writes to the parent folder) stays in
# $(BUILD), with Debian's hardening flags and its own objects (debian/rules).
DEB_SRC := $(BUILD)/deb/xlb
deb:
	$(call msg,DEB,$(BUILD)/deb)
	$(Q)rm -rf $(BUILD)/deb && mkdir -p $(DEB_SRC)
	$(Q)tar -c --exclude=./.git --exclude=./build --exclude='./$(BUILD)' . | tar -x -C $(DEB_SRC)
	$(Q)cd $(DEB_SRC) && XLB_VERSION='$(XLB_VERSION)' \
		dpkg-buildpackage -b -uc -us -j2 >../build.log 2>&1 || { tail -30 ../build.log; exit 1; }
	$(Q)ls $(BUILD)/deb/*.deb
