# Install: `make install [PREFIX=/usr/local] [DESTDIR=...]` puts the binary,
# the guest SDK (headers and libopsub.a, built with musl-gcc), the example
# guests, the documentation, the man pages, the systemd unit and the bash
# completion under PREFIX; `make uninstall` with the same variables removes
# exactly those files.  The man pages are made here from the binary's --help
# (dist/man/mkman.sh), so they cannot drift from it; only their sources are
# in the repository.

PREFIX         ?= /usr/local
BINDIR         ?= $(PREFIX)/bin
INCLUDEDIR     ?= $(PREFIX)/include
LIBDIR         ?= $(PREFIX)/lib
DATADIR        ?= $(PREFIX)/share
DOCDIR         ?= $(DATADIR)/doc/opsub
MANDIR         ?= $(DATADIR)/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR    ?= $(DATADIR)/bash-completion/completions
# `opsub demo` and `opsub bench` look for the example guests next to the
# binary (build/guests) or at BINDIR/../lib/opsub/guests, so this one is
# fixed relative to PREFIX.
GUESTDIR       := $(PREFIX)/lib/opsub/guests
INSTALL        ?= install

SDK_HEADERS  := include/opsub.h include/opsub_abi.h include/opsub_vring.h include/nic_regs.h \
                include/nic_ring.h include/null_frame.h
DOC_FILES    := $(wildcard docs/*.md)
BENCH_DOCS   := $(wildcard docs/bench/*.md docs/bench/*.png)
EXAMPLES     := $(wildcard guest/examples/*.c guest/examples/*.h)
MAN_COMMANDS := run daemon ctl demo bench cpu
MAN_PAGES    := $(BUILD)/man/opsub.1 $(MAN_COMMANDS:%=$(BUILD)/man/opsub-%.1)

# Where the generated files point (docs, guests, the binary): rewritten only
# when PREFIX or a directory changes, so pages and unit follow it.
DIST_PATHS := $(BINDIR) $(DOCDIR) $(GUESTDIR)
$(BUILD)/dist/paths: FORCE
	@mkdir -p $(dir $@)
	@echo '$(DIST_PATHS)' > $@.$$$$; if cmp -s $@.$$$$ $@; then rm -f $@.$$$$; else mv -f $@.$$$$ $@; fi

$(BUILD)/man/%.1: $(BUILD)/opsub dist/man/mkman.sh dist/man/help-of.sh $(wildcard dist/man/*.h2m) \
                  $(BUILD)/gen/version.h $(BUILD)/dist/paths
	@mkdir -p $(dir $@)
	dist/man/mkman.sh $(BUILD)/opsub '$(VERSION_TEXT)' '$(DOCDIR)' '$(GUESTDIR)' $* $@

man: $(MAN_PAGES)

$(BUILD)/dist/%: dist/%.in $(BUILD)/dist/paths
	@mkdir -p $(dir $@)
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@GUESTDIR@|$(GUESTDIR)|g' $< > $@.$$$$ && \
	mv -f $@.$$$$ $@

install: $(BUILD)/opsub guests $(MAN_PAGES) $(BUILD)/dist/opsub.service $(BUILD)/dist/opsub.json
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(INCLUDEDIR)/opsub $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(GUESTDIR) $(DESTDIR)$(DOCDIR)/docs/bench $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0755 $(BUILD)/opsub $(DESTDIR)$(BINDIR)/opsub
	$(INSTALL) -m 0644 $(SDK_HEADERS) $(DESTDIR)$(INCLUDEDIR)/opsub/
	$(INSTALL) -m 0644 $(BUILD)/guests/libopsub.a $(DESTDIR)$(LIBDIR)/libopsub.a
	$(INSTALL) -m 0755 $(GUESTS) $(DESTDIR)$(GUESTDIR)/
	$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/docs/
	$(INSTALL) -m 0644 $(BENCH_DOCS) $(DESTDIR)$(DOCDIR)/docs/bench/
	$(INSTALL) -m 0644 $(EXAMPLES) $(BUILD)/dist/opsub.json $(DESTDIR)$(DOCDIR)/examples/
	$(INSTALL) -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(BUILD)/dist/opsub.service $(DESTDIR)$(SYSTEMDUNITDIR)/opsub.service
	$(INSTALL) -m 0644 dist/opsub.bash-completion $(DESTDIR)$(BASHCOMPDIR)/opsub

# Only what install wrote, then the directories that are opsub's own (if
# empty): never a shared directory such as bin/ or share/man/.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/opsub $(DESTDIR)$(LIBDIR)/libopsub.a \
		$(addprefix $(DESTDIR)$(INCLUDEDIR)/opsub/,$(notdir $(SDK_HEADERS))) \
		$(addprefix $(DESTDIR)$(GUESTDIR)/,$(GUEST_NAMES)) \
		$(DESTDIR)$(DOCDIR)/README.md \
		$(addprefix $(DESTDIR)$(DOCDIR)/docs/,$(notdir $(DOC_FILES))) \
		$(addprefix $(DESTDIR)$(DOCDIR)/docs/bench/,$(notdir $(BENCH_DOCS))) \
		$(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(EXAMPLES)) opsub.json) \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN_PAGES))) \
		$(DESTDIR)$(SYSTEMDUNITDIR)/opsub.service $(DESTDIR)$(BASHCOMPDIR)/opsub
	-rmdir $(DESTDIR)$(INCLUDEDIR)/opsub $(DESTDIR)$(GUESTDIR) $(DESTDIR)$(PREFIX)/lib/opsub \
		$(DESTDIR)$(DOCDIR)/docs/bench $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(DOCDIR) 2>/dev/null
