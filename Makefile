# opsub build.  `make` builds build/opsub; `make check` installs what is
# missing, builds everything and runs the whole test suite; `make demo` runs
# the demo on the embedded default set-up.

CC      ?= gcc
MUSLCC  ?= musl-gcc
BUILD   := build
CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIE -MMD -MP \
           -D_GNU_SOURCE -Isrc -Iinclude $(EXTRA_CFLAGS)
LDFLAGS := -pie $(EXTRA_LDFLAGS)
LDLIBS  := -lZydis -lseccomp -ljansson -lsodium -lpthread -lm   # and, opened on first use, libpcap, libmicrohttpd, libarchive (util/lazy_libs.h)

SRC     := $(shell find src -name '*.c' -o -name '*.S' | sort)
OBJ     := $(patsubst src/%,$(BUILD)/obj/%.o,$(SRC))

.PHONY: all deps check demo clean guests tests fuzz bench install uninstall man FORCE
.SECONDARY:
all: $(BUILD)/opsub guests

$(BUILD)/opsub: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.c.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# General-register-only code (*.gpr.c) runs inside the fast gate with the
# guest's x87 and vector state live in the registers (gates/gate.h): the
# compiler may not use those registers, and the object may refer to nothing
# outside GPR_ALLOWED (data only; what needs normal code is reached through
# pointers only the full gate passes, see driver/drv.h: struct burst_slow).
GPR_ALLOWED := the_monitor drv
$(BUILD)/obj/%.gpr.c.o: src/%.gpr.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -mgeneral-regs-only -c -o $@ $<
	@bad=$$(nm -u $@ | awk '{print $$2}' | grep -vxF $(addprefix -e ,$(GPR_ALLOWED))); \
	if [ -n "$$bad" ]; then echo "$@: general-register-only code refers to: $$bad"; rm -f $@; exit 1; fi

$(BUILD)/obj/%.S.o: src/%.S
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The version `opsub --version` prints (src/cli/cmd_version.c): git describe
# of this tree, else the first line of a release tarball's VERSION file, else
# "unknown"; `make OPSUB_VERSION=X` overrides it.  The header is rewritten
# only when the text changes, so only cmd_version.c is rebuilt then.
ifndef OPSUB_VERSION
OPSUB_VERSION := $(shell { [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
                   git describe --tags --always --dirty 2>/dev/null; } || head -n1 VERSION 2>/dev/null || \
                   echo unknown)
endif
VERSION_TEXT := $(or $(shell printf '%s' '$(subst ',,$(OPSUB_VERSION))' | tr -cd 'A-Za-z0-9._+~-'),unknown)
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define OPSUB_VERSION "%s"\n' '$(VERSION_TEXT)' > $@.$$$$; \
	if cmp -s $@.$$$$ $@; then rm -f $@.$$$$; else mv -f $@.$$$$ $@; fi
$(BUILD)/obj/cli/cmd_version.c.o: $(BUILD)/gen/version.h
$(BUILD)/obj/cli/cmd_version.c.o: CFLAGS += -I$(BUILD)/gen
FORCE:

-include $(OBJ:.o=.d)
-include guest/guest.mk
-include tests/tests.mk
-include dist/dist.mk

deps:
	@./scripts/deps.sh

# The README's two commands.
check: deps
	@$(MAKE) --no-print-directory all tests
	@./tests/run

demo: deps
	@$(MAKE) --no-print-directory all
	@$(BUILD)/opsub demo $(DEMO_ARGS)

clean:
	rm -rf $(BUILD)
