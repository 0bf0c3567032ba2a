#!/bin/bash
# Builds the libFuzzer targets into build/tests/fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined):
#   fuzz_translate  the translator + verifier on guest code (translation only)
#   fuzz_elf        the ELF checker elf_check()
#   fuzz_control    the daemon's config parser and validator, and the
#                   control API's requests (fuzz_control.c)
#   fuzz_migrate    the receiving end of a migration stream or snapshot
#                   file (fuzz_migrate.c)
#   fuzz_state      the checker of saved guest states gs_check()
# The src/ files are compiled directly into each target (nothing from the
# normal build is reused, so the fuzzers always see the current sources).
# Usage: tests/fuzz/build.sh        (from anywhere; CC=clang-NN to override)
set -euo pipefail
cd "$(dirname "$0")/../.."
CC=${CC:-clang}
if ! command -v "$CC" >/dev/null; then
	echo "build.sh: $CC not found (apt-get install clang)" >&2
	exit 2
fi
OUT=build/tests/fuzz
mkdir -p "$OUT"
CFLAGS=(-std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Isrc -Iinclude
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -Wall -Wextra -Wno-unused-parameter)

# The translator and what it needs: the gate assembly (jump targets of
# translated code), guest memory bookkeeping, and the one stub (stubs.c).
TR_SRC=(src/translator/*.c src/gates/gate.S src/gates/ctx.c src/gates/cpu_model.c src/gates/host.c src/sandbox/guest_mem.c tests/fuzz/stubs.c)
# The loader needs cpuid_hwcap (for the auxv of loader_load).
ELF_SRC=(src/sandbox/loader.c src/sandbox/guest_mem.c src/gates/cpu_model.c)
# The config and the requests, with the NIC (for its defaults and stats);
# the guests are a model in fuzz_control.c.
CTL_SRC=(src/daemon/config.c src/daemon/config_wire.c src/fs/fs_options.c src/daemon/control.c src/daemon/cpu_limit.c src/daemon/cpu_limit_probe.c src/daemon/log.c src/daemon/queues.c src/daemon/pool.c src/driver/link.c src/daemon/metrics_listen.c src/daemon/migrate_stream.c src/util/parse.c src/util/json_keys.c src/nic/*.c)
# The receiver of migrations and snapshots, with the config checks it uses
# and the CPU model (a state's optional rows against the host's).
MIG_SRC=(src/gates/cpu_model.c src/gates/host.c src/daemon/migrate_recv.c src/daemon/migrate_stream.c src/daemon/config.c src/fs/fs_options.c src/daemon/cpu_limit.c src/daemon/cpu_limit_probe.c src/daemon/log.c src/daemon/config_wire.c src/daemon/metrics_listen.c src/util/parse.c src/util/json_keys.c src/nic/*.c)

"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_translate" tests/fuzz/fuzz_translate.c "${TR_SRC[@]}" -lZydis
"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_elf" tests/fuzz/fuzz_elf.c "${ELF_SRC[@]}"
"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_control" tests/fuzz/fuzz_control.c "${CTL_SRC[@]}" -ljansson -lpcap -lsodium -lpthread
"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_migrate" tests/fuzz/fuzz_migrate.c "${MIG_SRC[@]}" -ljansson -lpcap -lsodium -lpthread
"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_state" tests/fuzz/fuzz_state.c src/monitor/freeze_check.c src/gates/ctx.c src/gates/cpu_model.c
echo "built $OUT/fuzz_translate $OUT/fuzz_elf $OUT/fuzz_control $OUT/fuzz_state $OUT/fuzz_migrate"
