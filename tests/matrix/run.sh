#!/bin/bash
# Host matrix: a sample of the transparency and adversarial suites, run as if
# this host lacked rdtscp, user FSGSBASE, compatibility mode, all three, and
# a cheap LOOP (loop: the IBL entries take the jrcxz form, as on Intel).
# OPSUB_HOST_HIDE=name,... makes opsub (src/gates/host.h) and the native-side
# probe (tests/hostprops.c) report those properties missing: opsub must then
# emulate what it emulates (rdtscp: lfence; rdtsc; ecx = 0) and stay
# transparent, and the adversarial runner must skip the native proofs that
# need them -- naming the property -- while still running every attack under
# opsub.  So one host shows what the suites do on hosts it is not.
#
# Each configuration runs the existing runners with OPSUB_HOST_HIDE set and
# prefixes their lines with matrix/CONFIG/, plus three checks of its own:
#   matrix/CONFIG/opsub-cpu     opsub accepts the list and can run guests;
#                               with rdtscp hidden it says it emulates rdtscp,
#                               with loop hidden that it does not use loop
#   matrix/CONFIG/hostprops     the probe reports each hidden name missing
#   matrix/CONFIG/rdtscp-ecx    the rdtscp transparency program saw ecx 0
#                               under opsub (its stderr, not compared there)
#   matrix/CONFIG/hidden-skips  each hidden property the probe knows is named
#                               by a SKIP line of the adversarial sample
#
# Usage: tests/matrix/run.sh [CONFIG...]   (default: the five below)
# Environment: OPSUB (default build/opsub)
set -u
cd "$(dirname "$(readlink -f "$0")")/../.." || exit 2

OPSUB=${OPSUB:-build/opsub}
CONFIGS=("$@")
# shellcheck disable=SC2054  # one configuration is a comma-separated list
[[ ${#CONFIGS[@]} -eq 0 ]] && CONFIGS=(rdtscp fsgsbase compat rdtscp,fsgsbase,compat loop)

# Small on purpose (the matrix repeats it per configuration): rdtscp itself,
# TLS and start-up state (the FS base), the translator's harder paths, and
# its IBL entries and their slot chains (both forms: loop).
TRANSPARENCY_SAMPLE=(rdtscp.O2 rdtscp.pie tls_errno.pie argv_envp.pie x86_insns.O2 setjmp_longjmp.O2 jit.O2 smc.O2
	ibl_conflict_flags.O2 ibl_entry_forms.O2 ibl_same_slot.O2 calls_high.O2 computed_goto.O2)
# Attacks whose native proofs need a hidden property (rdtscp: leak_cpu_number;
# fsgsbase: read_fsgs_wrbase, leak_fsgs_base, seg_load; compat: file_int80,
# file_heaven_gate) and two that need none, as controls.
ADVERSARIAL_SAMPLE=(leak_cpu_number read_fsgs_wrbase leak_fsgs_base seg_load file_int80 file_heaven_gate
	file_syscall_open read_ptr64)

if [[ ! -x $OPSUB ]]; then
	echo "FAIL matrix: $OPSUB is missing (run make first)"
	exit 2
fi
source tests/hostprops.sh
if ! hostprops_load; then
	echo "FAIL matrix: host property probe: $HOSTPROPS_ERR"
	exit 2
fi
TMP=$(mktemp -d /tmp/opsub-matrix.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# A suite's lines under matrix/CONFIG/; its closing summary is dropped (tests/run
# counts the lines), detail lines (indented) stay.
relabel() {
	sed -E -n -e "s#^(PASS|FAIL|SKIP) #\1 matrix/$1/#p" -e '/^ /p'
}

for cfg in "${CONFIGS[@]}"; do
	label=${cfg//,/+}
	IFS=, read -ra hidden <<<"$cfg"

	# opsub takes the list and, for rdtscp, switches to its emulation
	out=$(OPSUB_HOST_HIDE=$cfg "$OPSUB" cpu 2>&1)
	why=""
	grep -q '^this host can run guests' <<<"$out" || why="opsub cpu: $(tail -n1 <<<"$out")"
	if [[ ,$cfg, == *,rdtscp,* ]] && ! grep -q '^rdtscp .*missing: emulated by the translator' <<<"$out"; then
		why+="${why:+; }opsub cpu does not say it emulates rdtscp: $(grep -m1 '^rdtscp ' <<<"$out")"
	fi
	if [[ ,$cfg, == *,loop,* ]] && ! grep -q '^loop  *not used' <<<"$out"; then
		why+="${why:+; }opsub cpu does not say it leaves loop out: $(grep -m1 '^loop ' <<<"$out")"
	fi
	if [[ -z $why ]]; then echo "PASS matrix/$label/opsub-cpu"; else echo "FAIL matrix/$label/opsub-cpu: $why"; fi

	# the probe reports every hidden name it knows as missing, and only those
	# (the others are opsub's: rdtscp is both)
	why=""
	probe=$(OPSUB_HOST_HIDE=$cfg "$HOSTPROPS_BIN")
	for h in "${hidden[@]}"; do
		[[ -n ${HOSTPROP_STATE[$h]:-} ]] || continue
		grep -q "^$h"$'\t'"no"$'\t'".*hidden by OPSUB_HOST_HIDE\$" <<<"$probe" || why+="${why:+; }$h not reported hidden"
	done
	if [[ -z $why ]]; then echo "PASS matrix/$label/hostprops"; else echo "FAIL matrix/$label/hostprops: $why"; fi

	# the transparency runner keeps each run's stderr next to the binary: the
	# guest's view of ecx is there (removed first: a stale one proves nothing)
	err=build/tests/transparency/rdtscp.O2.opsub.err
	rm -f "$err"
	OPSUB_HOST_HIDE=$cfg tests/transparency/run.sh "${TRANSPARENCY_SAMPLE[@]}" 2>&1 | relabel "$label"
	if grep -q '^rdtscp: ecx 0;' "$err" 2>/dev/null; then
		echo "PASS matrix/$label/rdtscp-ecx"
	else
		echo "FAIL matrix/$label/rdtscp-ecx: under opsub the guest saw: $(head -c 200 "$err" 2>/dev/null | head -n1)"
	fi

	OPSUB_HOST_HIDE=$cfg tests/adversarial/run.sh "${ADVERSARIAL_SAMPLE[@]}" >"$TMP/adv" 2>&1
	relabel "$label" <"$TMP/adv"
	why=""
	for h in "${hidden[@]}"; do
		[[ -n ${HOSTPROP_STATE[$h]:-} ]] || continue
		grep -q "^SKIP .*: native proof impossible on this host: .*\\b$h (" "$TMP/adv" ||
			why+="${why:+; }no SKIP names $h"
	done
	if [[ -z $why ]]; then echo "PASS matrix/$label/hidden-skips"; else echo "FAIL matrix/$label/hidden-skips: $why"; fi
done
exit 0
