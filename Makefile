# SPDX-License-Identifier: ISC
# immich-dedupe toolchain: one plain Makefile.

# The version: the only place it is written (-V, the man pages' footer,
# the User-Agent); debian/changelog's top entry must match (make deb checks).
VERSION	 = 0.1
PACKAGE	 = immich-dedupe
PREFIX	?= /usr/local
BINDIR	 = $(PREFIX)/bin
MANDIR	 = $(PREFIX)/share/man
DOCDIR	 = $(PREFIX)/share/doc/$(PACKAGE)
COMPDIR	 = $(PREFIX)/share/bash-completion/completions
# zsh: Debian's zsh looks in /usr/share/zsh/vendor-completions and
# /usr/local/share/zsh/site-functions.
ZSHDIR	 = $(PREFIX)/share/zsh/$(if $(filter /usr,$(PREFIX)),vendor-completions,site-functions)
OBJ	?= obj
BIN	?= bin

CFLAGS	?= -g -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2
override CFLAGS += -std=c11 -D_GNU_SOURCE -DVERSION=\"$(VERSION)\" -Wall -Wextra -Wwrite-strings \
	-I. $(shell pkg-config --cflags libcurl libcjson yaml-0.1 2>/dev/null)
override CPPFLAGS += -MMD -MP
LDLIBS	+= $(shell pkg-config --libs libcurl libcjson yaml-0.1 2>/dev/null || \
	echo -lcurl -lcjson -lyaml) -lcrypto -lm

CMDS	 = $(patsubst cmd/%.c,%,$(wildcard cmd/immich-*.c))
BINS	 = $(CMDS:%=$(BIN)/%)
COMMON	 = $(patsubst %.c,$(OBJ)/%.o,$(wildcard common/*.c))
TESTC	 = $(patsubst tests/%.c,$(OBJ)/t/%,$(wildcard tests/*.c))
MANS	 = $(wildcard man/*.[157])
EXAMPLES = $(wildcard examples/*.sh examples/*.service examples/*.timer)
DOCS	 = README.md NEWS.md
T	?= tests/*.t
JOBS	?= 2

all: $(BINS)

$(BIN)/immich-%: $(OBJ)/cmd/immich-%.o $(OBJ)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OBJ)/t/%: $(OBJ)/tests/%.o $(OBJ)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OBJ)/libcommon.a: $(COMMON)
	$(AR) rcs $@ $(COMMON)

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

# Installs what is missing (apt-get as root; otherwise says what to install).
deps:
	@sh .ci/install-deps

check: deps
	@$(MAKE) --no-print-directory all testbins
	mandoc -Tlint -Wwarning $(MANS)
	PATH="$(abspath $(OBJ))/t:$(abspath $(BIN)):$$PATH" \
	    FUZZ_BUILD="$(abspath $(OBJ))/fuzz" prove -j$(JOBS) $(PROVEFLAGS) $(T) </dev/null

testbins: $(TESTC)

# The long fault, crash and bad-input campaigns (tests/campaign.py), and
# a longer libFuzzer run (FUZZ_SECONDS per target).
campaign: deps
	@$(MAKE) --no-print-directory all testbins
	PATH="$(abspath $(OBJ))/t:$(abspath $(BIN)):$$PATH" CAMPAIGN_LONG=1 \
	    BADINPUT_EACH=1 prove -v tests/0810-badinput.t tests/0820-faults.t \
	    tests/0830-crashes.t tests/0613-restore-crashes.t </dev/null

fuzz:
	sh tests/fuzz/run.sh "$(abspath $(OBJ))/fuzz" $${FUZZ_SECONDS:-120}

# The end-to-end tests again, through Prism over the real Immich OpenAPI
# spec (tests/conformance/run.sh; IMMICH_SPEC overrides the spec's path).
conformance: deps
	@$(MAKE) --no-print-directory all testbins
	PATH="$(abspath $(OBJ))/t:$(abspath $(BIN)):$$PATH" T='$(T)' \
	    sh tests/conformance/run.sh </dev/null

# AddressSanitizer + UBSan build, tested as a whole.
asan:
	@$(MAKE) --no-print-directory check OBJ=obj-asan BIN=bin-asan \
	    CFLAGS="-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer"

demo: deps
	@$(MAKE) --no-print-directory all
	@PATH="$(abspath $(BIN)):$$PATH" sh examples/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all testbins
	@PATH="$(abspath $(OBJ))/t:$(abspath $(BIN)):$$PATH" sh tests/bench/run.sh

# Everything the package holds; tests/0930-install.t compares the two.
install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(COMPDIR) $(DESTDIR)$(ZSHDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do \
		s=$${m##*.}; d=$(DESTDIR)$(MANDIR)/man$$s/$${m#man/}; \
		sed 's/^\.Os$$/.Os $(PACKAGE) $(VERSION)/' $$m >$$d && \
		chmod 0644 $$d || exit 1; \
	done
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 completion/$(PACKAGE) $(DESTDIR)$(COMPDIR)
	install -m 0644 completion/_$(PACKAGE) $(DESTDIR)$(ZSHDIR)
	for b in $(CMDS); do \
		ln -sf $(PACKAGE) $(DESTDIR)$(COMPDIR)/$$b || exit 1; \
	done

uninstall:
	for b in $(CMDS); do \
		rm -f $(DESTDIR)$(BINDIR)/$$b $(DESTDIR)$(COMPDIR)/$$b; \
	done
	for m in $(MANS); do \
		s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m#man/}; \
	done
	rm -f $(DESTDIR)$(COMPDIR)/$(PACKAGE) $(DESTDIR)$(ZSHDIR)/_$(PACKAGE)
	rm -rf $(DESTDIR)$(DOCDIR)

# A Debian package, built with debhelper from a copy of the sources in
# $(OBJ)/deb/src (without this make's variables: its make clean must not
# remove this OBJ, and the build flags are dpkg-buildflags'); the .deb lands in $(OBJ)/deb/ and lintian (when
# installed; tests/0930-install.t needs it) must find no error in it.
deb:
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version) && \
	    [ "$$v" = "$(VERSION)" ] || { echo "make deb: debian/changelog" \
	    "says $$v, the Makefile $(VERSION): add a changelog entry" >&2; \
	    exit 1; }
	rm -rf $(OBJ)/deb
	mkdir -p $(OBJ)/deb/src
	tar -cf - Makefile LICENSE $(DOCS) cmd common man examples \
	    completion debian | tar -C $(OBJ)/deb/src -xf -
	cd $(OBJ)/deb/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u OBJ \
	    -u BIN -u CFLAGS -u CPPFLAGS -u LDFLAGS -u LDLIBS \
	    DEB_BUILD_OPTIONS="parallel=$(JOBS) nocheck" \
	    dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
	    { tail -n 30 ../build.log; exit 1; }
	@if command -v lintian >/dev/null; then \
		echo lintian --fail-on error $(OBJ)/deb/$(PACKAGE)_$(VERSION)_*.deb; \
		lintian --fail-on error $(OBJ)/deb/$(PACKAGE)_$(VERSION)_*.deb; \
	else echo "make deb: lintian is not installed: not checked" >&2; fi
	@ls $(OBJ)/deb/$(PACKAGE)_$(VERSION)_*.deb

clean:
	rm -rf $(OBJ) $(BIN) obj-asan bin-asan

.PHONY: all check conformance testbins asan demo bench install uninstall deb clean deps \
	campaign fuzz
.SECONDARY:
