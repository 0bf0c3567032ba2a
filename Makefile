# opsub build.  `make` builds build/opsub; `make check` installs what is
# missing, builds everything and runs the whole test suite; `make demo` runs
# the demo on the embedded default set-up.

CC      ?= gcc
MUSLCC  ?= musl-gcc
BUILD   := build
CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIE -MMD -MP \
           -D_GNU_SOURCE -Isrc -Iinclude $(EXTRA_CFLAGS)
LDFLAGS := -pie $(EXTRA_LDFLAGS)
LDLIBS  := -lZydis -lpcap -lseccomp -ljansson -lpthread -lm

SRC     := $(shell find src -name '*.c' -o -name '*.S' | sort)
OBJ     := $(patsubst src/%,$(BUILD)/obj/%.o,$(SRC))

.PHONY: all deps check demo clean guests tests fuzz bench
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

-include $(OBJ:.o=.d)
-include guest/guest.mk
-include tests/tests.mk

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
