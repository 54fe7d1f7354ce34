# SPDX-License-Identifier: BSD-2-Clause
# spillway -- build, test, install.  `make` builds bin/spillway.
VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DOCDIR     ?= $(PREFIX)/share/doc/spillway
LIBDIR     ?= $(PREFIX)/lib
UNITS_SYSTEMD := $(wildcard systemd/*.service systemd/*.timer systemd/*.path)
DESTDIR    ?=

PKGS     := rdkafka avro-c libcurl inih sqlite3 jansson
CC       ?= cc
CFLAGS   ?= -O2 -g
# the project's own flags, kept apart from the user's CFLAGS
# -Werror by default; WERROR= lets a packager on a newer compiler build anyway.
WERROR   ?= -Werror
WARN     := -std=c11 -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wformat=2
DEFS     := -D_GNU_SOURCE -DSPILLWAY_VERSION='"$(VERSION)"'
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(WARN) $(DEFS) $(PKG_CFLAGS) $(CFLAGS)
LIBS       = $(PKG_LIBS) -lm

BUILD    ?= build
SRCS     := $(wildcard src/*.c)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
OBJS     := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNITS    := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BIN      ?= bin/spillway

.PHONY: all deps libs-present test unit asan bench demo install clean fuzz fuzz-build fuzz-smoke
all: $(BIN)

# Without the libraries pkg-config's own errors say nothing of the fix.
libs-present:
	@pkg-config --exists $(PKGS) || { \
	  echo "spillway: missing libraries: $$(for p in $(PKGS); do pkg-config --exists $$p || printf '%s ' $$p; done)" >&2; \
	  echo "spillway: run 'make deps' (scripts/deps.sh) to install the Debian packages" >&2; exit 1; }

$(BIN): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) Makefile | libs-present
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/tap.h $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LIBS)

# Avro datums for the decoder's unit test, encoded by python-avro (an
# independent implementation), never by spillway itself.
FIXTURES := $(BUILD)/tests/fixtures
$(FIXTURES)/.stamp: tests/helpers/avro_fixtures.py tests/unit/fixtures/numeric.avsc etc/nurse_sensor_event.avsc
	/usr/bin/python3 tests/helpers/avro_fixtures.py $(FIXTURES)
	@touch $@

$(BUILD)/tests/mockcluster: tests/helpers/mockcluster.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) -o $@ $< $(shell pkg-config --cflags --libs rdkafka) -ldl

# Installs the Debian packages that are missing (none: does nothing).
deps:
	@scripts/deps.sh

unit: $(UNITS)

# The whole suite, as CI runs it: unit tests, then the end-to-end tests
# against librdkafka's mock cluster, a real influxd and the ML stub. The
# end-to-end tests mostly wait (the mock cluster holds every group join for
# 3-5 s at the shipped session timeout), so four run at once on two cores,
# the longest first.
SLOW_TESTS := tests/t/64-faults.t tests/t/62-scaleout.t tests/t/63-crash.t tests/t/61-group.t tests/t/78-day.t tests/t/41-quarantine-exact.t tests/t/65-exact.t tests/t/66-preserve.t tests/t/92-systemd-boot.t tests/t/45-hostile.t tests/t/46-flood.t
test: deps $(BIN) $(UNITS) $(FIXTURES)/.stamp $(BUILD)/tests/mockcluster $(BUILD)/sim
	SPILLWAY=$(abspath $(BIN)) SPILLWAY_FIXTURES=$(FIXTURES) MOCKCLUSTER=$(abspath $(BUILD)/tests/mockcluster) \
	  SPILLWAY_SIM=$(abspath $(BUILD)/sim) \
	  SPILLWAY_MAKEVARS="BUILD=$(BUILD) BIN=$(BIN)" \
	  prove -j4 $(UNITS) $(SLOW_TESTS) $(filter-out $(SLOW_TESTS),$(wildcard tests/t/*.t))

# The same suite against an AddressSanitizer + UBSan build.
asan:
	$(MAKE) BUILD=build-asan BIN=build-asan/spillway \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" test

bench: deps $(BIN) $(BUILD)/tests/mockcluster
	bench/check.sh
	bench/drain.sh
	bench/keepup.sh
	bench/backlog.sh

demo: deps $(BIN) $(BUILD)/tests/mockcluster
	scripts/demo.sh

# The paths in the units and the cron example follow BINDIR and SYSCONFDIR;
# sed writes them straight into DESTDIR (no shared temp file: two installs
# may run at once).
install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/spillway
	install -D -m 0644 man/spillway.1 $(DESTDIR)$(MANDIR)/man1/spillway.1
	install -D -m 0644 man/spillway.ini.5 $(DESTDIR)$(MANDIR)/man5/spillway.ini.5
	install -D -m 0644 etc/nurse_sensor_event.avsc $(DESTDIR)$(SYSCONFDIR)/spillway/nurse_sensor_event.avsc
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)
	@for u in $(UNITS_SYSTEMD) etc/spillway.cron; do \
	  case $$u in *.cron) d=$(DESTDIR)$(DOCDIR) ;; *) d=$(DESTDIR)$(UNITDIR) ;; esac; \
	  sed 's|/usr/local/bin/spillway|$(BINDIR)/spillway|; s|/etc/spillway/|$(SYSCONFDIR)/spillway/|' $$u \
	    >$$d/$$(basename $$u) && chmod 0644 $$d/$$(basename $$u) || exit 1; \
	done
	install -D -m 0644 systemd/spillway.sysusers $(DESTDIR)$(SYSUSERSDIR)/spillway.conf
	install -D -m 0644 grafana/spillway.json $(DESTDIR)$(DOCDIR)/grafana/spillway.json
	install -D -m 0644 grafana/README.md $(DESTDIR)$(DOCDIR)/grafana/README.md
	install -D -m 0644 contrib/prometheus/spillway.rules.yml $(DESTDIR)$(DOCDIR)/prometheus/spillway.rules.yml
	install -D -m 0644 contrib/prometheus/spillway.rules.test.yml $(DESTDIR)$(DOCDIR)/prometheus/spillway.rules.test.yml
	install -D -m 0755 contrib/notify/webhook $(DESTDIR)$(LIBDIR)/spillway/notify/webhook
	install -D -m 0755 contrib/notify/alertmanager $(DESTDIR)$(LIBDIR)/spillway/notify/alertmanager
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/spillway/spillway.ini ]; then \
	  echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/spillway/spillway.ini"; \
	else install -D -m 0640 etc/spillway.ini $(DESTDIR)$(SYSCONFDIR)/spillway/spillway.ini; fi

# Fuzz targets (tests/fuzz/, README there): libFuzzer from clang-14 with
# AddressSanitizer and UBSan. The project's objects are rebuilt with clang
# under the project's warning set, -Werror included; the targets run one
# after another, FUZZ_SECONDS each, and any finding fails the make. Inputs
# found, crash reproducers and logs stay in build-fuzz/.
FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := decode time lineproto config ml_answer flink influx_answer trace
FUZZ_CFLAGS  ?= -O1 -g
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_OBJS    := $(LIB_SRCS:src/%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_HELPERS := $(FUZZ_BUILD)/obj/fuzz/lpread.o $(FUZZ_BUILD)/obj/fuzz/loopback.o
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
.SECONDARY: $(FUZZ_OBJS) $(FUZZ_HELPERS)

$(FUZZ_BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) Makefile | libs-present
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(WARN) $(DEFS) $(PKG_CFLAGS) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/obj/fuzz/%.o: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) Makefile | libs-present
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(WARN) $(DEFS) $(PKG_CFLAGS) -Isrc $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJS) $(FUZZ_HELPERS)
	$(FUZZ_CC) $(WARN) $(DEFS) -DSPILLWAY_SRCDIR='"$(CURDIR)"' $(PKG_CFLAGS) -Isrc $(FUZZ_CFLAGS) $(FUZZ_SAN) \
	  -fsanitize=fuzzer -o $@ $< $(FUZZ_HELPERS) $(FUZZ_OBJS) $(LIBS) -lpthread

# Avro datums for the decode target, encoded by python-avro, never committed.
$(FUZZ_BUILD)/seeds/.stamp: tests/fuzz/seeds.py tests/fuzz/fuzz_types.avsc etc/nurse_sensor_event.avsc
	/usr/bin/python3 tests/fuzz/seeds.py $(FUZZ_BUILD)/seeds
	@touch $@

fuzz-build: $(FUZZ_BINS) $(FUZZ_BUILD)/seeds/.stamp

fuzz: deps fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# What CI runs: every target for 10 s.
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=10

clean:
	rm -rf build build-asan build-fuzz bin/spillway

# The deterministic simulation of the exactness rules (tests/sim/sim.c):
# SIM_SCHEDULES schedules on every core, ending with "sim: N schedules, M
# steps, V violations"; make test runs a share of it (tests/t/15-sim.t);
# tests/sim/mutants.sh shows it catching each fix put back.
SIM_SCHEDULES ?= 1000000
$(BUILD)/sim: tests/sim/sim.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LIBS)

.PHONY: sim
sim: $(BUILD)/sim
	$(BUILD)/sim --schedules $(SIM_SCHEDULES) --jobs $$(nproc)
