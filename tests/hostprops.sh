# shellcheck shell=bash disable=SC2034  # sourced: the caller reads the variables
# Host properties for the test runners: sourced, not run (bash).
#
# tests/hostprops.c probes, by executing them, the host properties that
# native runs depend on (compat, sysenter, tsx, farptr64, ...) and honours
# OPSUB_HOST_HIDE.  These functions build it, run it once and answer
# questions about its report.  The caller must be in the repository root.
#
#   hostprops_load              build and run the probe; fills HOSTPROP_NAMES,
#                               HOSTPROP_STATE and HOSTPROP_TEXT; returns 1
#                               with the reason in HOSTPROPS_ERR if it cannot
#                               (call it directly, not in a $(...) subshell)
#   hostprops_missing PROP...   prints "PROP (what it means; on this host: what
#                               the probe saw)" for each missing one, joined by
#                               "; ".  Status 0: none missing, 1: some missing,
#                               2: an unknown name (printed)

HOSTPROPS_SRC=tests/hostprops.c
HOSTPROPS_BIN=build/tests/hostprops
declare -gA HOSTPROP_STATE=() HOSTPROP_TEXT=()
declare -ga HOSTPROP_NAMES=()   # in the probe's order
HOSTPROPS_ERR=""

hostprops_load() {
	local name state meaning evidence tmp
	if [[ ! $HOSTPROPS_BIN -nt $HOSTPROPS_SRC ]]; then
		command -v musl-gcc >/dev/null || { HOSTPROPS_ERR="musl-gcc is missing (scripts/deps.sh)"; return 1; }
		mkdir -p "$(dirname "$HOSTPROPS_BIN")"
		# static and not PIE: the 32-bit probes need code and data below 4 GiB
		tmp=$HOSTPROPS_BIN.$$
		if ! musl-gcc -std=gnu11 -Wall -Wextra -static -fno-pie -no-pie -O1 -o "$tmp" "$HOSTPROPS_SRC" \
			>"$tmp.log" 2>&1; then
			HOSTPROPS_ERR="$HOSTPROPS_SRC does not build: $(grep -m1 error "$tmp.log")"
			rm -f "$tmp" "$tmp.log"
			return 1
		fi
		mv -f "$tmp" "$HOSTPROPS_BIN"
		rm -f "$tmp.log"
	fi
	# status 1 only says that something is missing
	while IFS=$'\t' read -r name state meaning evidence; do
		HOSTPROP_NAMES+=("$name")
		HOSTPROP_STATE[$name]=$state
		HOSTPROP_TEXT[$name]="$meaning; on this host: $evidence"
	done < <("$HOSTPROPS_BIN")
	((${#HOSTPROP_STATE[@]})) || { HOSTPROPS_ERR="$HOSTPROPS_BIN reported nothing"; return 1; }
}

hostprops_missing() {
	local p out=""
	for p in "$@"; do
		if [[ -z ${HOSTPROP_STATE[$p]:-} ]]; then
			echo "unknown host property '$p' (known: ${HOSTPROP_NAMES[*]})"
			return 2
		fi
		[[ ${HOSTPROP_STATE[$p]} == yes ]] || out+="${out:+; }$p (${HOSTPROP_TEXT[$p]})"
	done
	[[ -z $out ]] && return 0
	echo "$out"
	return 1
}
