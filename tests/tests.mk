# Unit tests: each tests/unit/test_*.c is a cmocka program linked with every
# opsub module (minus the CLI), built with ASan and UBSan.
ASAN_CFLAGS := $(filter-out -O2,$(CFLAGS)) -O1 -fsanitize=address,undefined \
               -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_OBJ    := $(patsubst src/%,$(BUILD)/asan/%.o,$(filter-out src/cli/%,$(SRC)))
UNIT_BIN    := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))

$(BUILD)/asan/%.c.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c -o $@ $<

$(BUILD)/asan/%.S.o: src/%.S
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(UNIT_LIBS_$*) -lcmocka

# What a test calls beyond opsub's own use of a library (opsub opens
# libarchive lazily, util/lazy_libs.h; this test writes archives with it).
UNIT_LIBS_test_fs_options := -larchive

-include $(ASAN_OBJ:.o=.d) $(UNIT_BIN:=.d)

tests: $(UNIT_BIN)
