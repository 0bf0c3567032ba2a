#!/bin/bash
# Regenerates the seed corpora in tests/fuzz/corpus/ (the files are kept in
# the repository; run this only to change them):
#   corpus/translate/real-*   chunks of .text of musl-static programs
#   corpus/translate/row-*    one snippet per subtraction-policy row / form
#   corpus/elf/*              tiny ELF files, whole and damaged
# Needs: gcc, musl-gcc, binutils (as, objcopy).
#
# A translator seed is raw guest code; its first and last bytes double as
# the harness's flags (see fuzz_translate.c).  Each snippet is written
# once as is and once between a one-byte prefix and suffix that pick
# another guest layout and the branch-following/IBL/invalidation options.
set -euo pipefail
cd "$(dirname "$0")"
OUT=corpus
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rm -rf "$OUT/translate" "$OUT/elf"
mkdir -p "$OUT/translate" "$OUT/elf"

# ---- hand-written snippets, one per policy row / operand form -------------
# name|intel-syntax assembly (';' separates instructions)
snippets=$(cat <<'EOF'
syscall|mov eax, 60; xor edi, edi; syscall; mov eax, 1; syscall; ret
int80|mov eax, 1; int 0x80; int3; .byte 0xf1; int 3; ret
vmcall_cpuid_xgetbv|vmcall; cpuid; xor ecx, ecx; xgetbv; mov ecx, 1; xgetbv; ret
rdtsc|rdtsc; rdtscp; shl rdx, 32; or rax, rdx; ret
far|jmp fword ptr [rax]; call fword ptr [rbx]; .byte 0x48, 0xff, 0x2a; retf; .byte 0x48, 0xcb; iretq; .byte 0xca, 8, 0
segload|mov ds, ax; mov es, ax; mov ss, ax; mov fs, ax; mov gs, ax; pop fs; pop gs; lss eax, fword ptr [rbx]; lfs eax, fword ptr [rbx]; .byte 0x48, 0x0f, 0xb5, 0x03; ret
segread|mov eax, fs; mov eax, gs; mov ax, cs; push fs; push gs; mov word ptr [rax], ds; ret
riprel|mov rax, [rip+0x100]; mov r9, [rip-0x40]; cmp byte ptr [rip+0x10], 5; mov dword ptr [rip+0x20], 0x12345678; add qword ptr [rip+0x30], 7; ret
riprel_lea|lea rax, [rip+0x100]; lea r10d, [rip-0x10]; lea ax, [rip]; lea rsp, [rip+0x1000]; lea rbp, [rip-0x7ffffff0]; ret
riprel_vec|movaps xmm0, [rip+0x40]; vmovdqu ymm0, [rip+0x20]; vpshufb ymm8, ymm9, [rip+0x40]; vpaddd ymm12, ymm13, [rip-0x100]; pshufd xmm1, [rip+0x10], 0x1b; ret
riprel_long|lock add qword ptr cs:[rip+0x12345678], 0x12345678; .byte 0x66, 0x2e, 0x48, 0x81, 0x05, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44; ret
moffs|movabs al, [0x1000]; movabs [0x7fff0000], rax; movabs eax, [0x90000000]; movabs [0xfffffff0], ax; movabs rax, [0x123456789a]; ret
fs_gs|mov rax, fs:[0]; mov rax, fs:[rbx+8]; mov fs:[rax], ecx; mov rax, gs:[0x28]; add qword ptr fs:[rsp+rax*2+8], 1; mov rax, fs:[rip+0x10]; mov rsp, fs:[rax]; lea rax, fs:[rbx]; ret
fsgsbase|rdfsbase rax; wrfsbase rdi; rdgsbase eax; wrgsbase r12d; rdfsbase r15d; wrfsbase r9; ret
strings|rep movsb; rep stosq; repne scasb; repe cmpsb; lodsb; movsq; stosd; .byte 0x67, 0xf3, 0xa4; std; rep movsq; cld; ret
strings_seg|rep movsb byte ptr es:[rdi], byte ptr fs:[rsi]; lodsq rax, qword ptr gs:[rsi]; ret
enter_leave|enter 0x20, 0; leave; enter 0x1000, 0; enter 0x10, 1; .byte 0x66, 0xc9; .byte 0x66, 0xc8, 8, 0, 0; leave; ret
popf|pushfq; popfq; pushf; .byte 0x66, 0x9d; .byte 0x48, 0x9d; .byte 0x67, 0x9d; sahf; lahf; ret
xlat|xlatb; .byte 0x67, 0xd7; .byte 0x64, 0xd7; .byte 0x65, 0xd7; ret
gather|vpgatherdd ymm0, [rax+ymm1*4], ymm2; vgatherqpd xmm0, [rsp+xmm1*8+0x10], xmm2; vpgatherqq ymm3, [r13+ymm4*2-8], ymm5; vgatherdps xmm6, [xmm7*1+0x601000], xmm8; vpgatherdd ymm0, fs:[rax+ymm1*4], ymm2; ret
jrcxz|jrcxz 1f; 1: jecxz 2f; 2: ret
loop|1: loop 1b; 2: loope 2b; 3: loopne 3b; .byte 0x67, 0xe2, 0xfe; ret
indirect_mem|call [rax]; call [rax+rbx*8+0x10]; jmp [rsp+8]
indirect_mem2|call fs:[rax]; jmp qword ptr [r11]; .byte 0x3e, 0xff, 0x20; .byte 0x67, 0xff, 0x10; call [rip+0x100]; jmp [0x601000]
indirect_reg|call rax; jmp r11; .byte 0x66, 0xff, 0xe0; call rsp; .byte 0xf2, 0xff, 0xe1; .byte 0x3e, 0xff, 0xd2
switch|lea rsi, [rip + 2f]; movzx ecx, dil; movsxd rax, dword ptr [rsi+rcx*4]; add rax, rsi; jmp rax; 1: mov r8d, 5; movzx r8d, dl; mov esi, 0x400040; movsxd rax, dword ptr [rsi+r8*4]; add rax, rsi; jmp rax; 2: .fill 256, 4, -0x40
ret_imm|ret 8; ret 0; ret 0xffff; .byte 0xf3, 0xc3; .byte 0x66, 0xc3; .byte 0x48, 0xc3
direct|jmp 1f; 1: call 2f; 2: jz 3f; 3: jnz 1b; .byte 0x66, 0xe9, 0, 0; .byte 0x66, 0xe8, 0, 0; .byte 0xf2, 0xe9, 0, 0, 0, 0; .byte 0x2e, 0x74, 0; ret
avx2|vpaddd ymm0, ymm1, [rax]; vpermq ymm0, ymm1, 0x1b; vfmadd231ps ymm0, ymm1, [rbx+rcx*4]; vzeroupper; vpbroadcastd ymm0, [rdi]; vmaskmovps [rdi], ymm1, ymm2; vpmaskmovd ymm3, ymm4, [rsi]; vcvtph2ps ymm0, [rax]; ret
avx2_mask|maskmovq mm0, mm1; maskmovdqu xmm0, xmm1; vmaskmovdqu xmm2, xmm3; .byte 0x64, 0x66, 0x0f, 0xf7, 0xc1; ret
x87|fld qword ptr [rax]; fstp tbyte ptr [rsp]; fnstenv [rax]; fldcw [rsp]; fxsave [rax]; fnsave [rbx]; frstor [rbx]; fild dword ptr [rcx]; fistp qword ptr [rdx]; fwait; fninit; ret
sse_misc|ldmxcsr [rax]; stmxcsr [rsp-4]; clflush [rdi]; prefetchw [rax]; prefetcht0 [rip+0x40]; pause; lfence; mfence; sfence; movnti [rax], ecx; ret
bmi_etc|lzcnt rax, [rbx]; tzcnt ecx, edx; pdep rax, rbx, [rcx]; andn eax, ebx, ecx; movbe eax, [rdi]; adcx rax, [rsi]; adox rbx, rcx; aesenc xmm0, [rax]; pclmulqdq xmm0, xmm1, 0x11; popcnt rax, [rbx]; crc32 eax, byte ptr [rcx]; ret
undefined|ud2; .byte 0x0f, 0xff, 0xc0; .byte 0x0f, 0xb9, 0xc0; .byte 0x06; .byte 0xd6; .byte 0x0f, 0x04; .byte 0x8f, 0xe8, 0x78, 0xa2, 0xc1, 0x20
evex|vpaddd zmm0, zmm1, zmm2; vmovdqu64 zmm0, [rax]; kmovw k1, eax; vpaddd xmm0{k1}{z}, xmm1, [rip+0x10]; vpgatherdd zmm0{k1}, [rax+zmm1*4]; ret
privileged|hlt; in al, dx; out dx, al; cli; sti; insb; outsd; mov cr0, rax; wrmsr; rdmsr; swapgs; sysenter; sysretq; invlpg [rax]; lgdt [rax]; ret
system_read|sgdt [rax]; sidt [rax]; sldt ax; str ax; smsw eax; lar eax, ecx; lsl eax, ecx; verr ax; rdpmc; ret
not_in_model|rdrand eax; rdseed eax; xsave [rax]; xrstor [rax]; monitor; mwait; rdpid rax; rdpkru; xbegin 1f; 1: xend; clflushopt [rax]; sha1rnds4 xmm0, xmm1, 0; vpdpbusd ymm0, ymm1, ymm2; ret
nop_hints|nop; nop dword ptr [rax+rax*1]; nop word ptr fs:[rip+0x1000]; endbr64; endbr32; bnd jmp 1f; 1: bndmk bnd0, [rax]; bndcl bnd0, [rip+0x10]; .byte 0x0f, 0x1f, 0x05, 0, 0, 0, 0x80; ret
rsp_writes|mov rsp, rax; add rsp, 8; xchg rsp, rax; pop rsp; mov esp, eax; mov sp, ax; push qword ptr [rax]; pop qword ptr [rax]; push rsp; pop qword ptr [rsp]; sub rsp, [rax]; cmovz rsp, rbx; ret
atomics|lock xadd [rax], ecx; lock cmpxchg [rbx], rdx; cmpxchg16b [rax]; cmpxchg8b [rdi]; lock inc qword ptr [rsp+8]; xchg [rax], rbx; lock bts dword ptr [rdx], 3; ret
addr32|.byte 0x67, 0x8b, 0x04, 0x24; .byte 0x67, 0x48, 0x8b, 0x44, 0x88, 0x10; .byte 0x67, 0x8d, 0x04, 0x24; .byte 0x67, 0x64, 0x8b, 0x03; ret
prefixes|.byte 0x2e, 0x3e, 0x26, 0x36, 0x8b, 0x03; .byte 0x40, 0x41, 0x8b, 0x03; .byte 0x48, 0x66, 0x8b, 0x03; .byte 0xf0, 0xf2, 0xf3, 0x8b, 0x03; .byte 0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x8b,0x03; ret
switch_bounded|cmp esi, 9; jae 3f; mov ecx, esi; movsxd rcx, dword ptr [rbp+rcx*4]; add rcx, rbp; jmp rcx; 3: cmp dword ptr [r8], 3; ja 4f; mov r9d, dword ptr [r8]; movsxd r9, dword ptr [rbp+r9*4]; add r9, rbp; jmp r9; 4: lea rdx, [rip + 2f]; cmp edi, 5; ja 1f; mov eax, edi; movsxd rax, dword ptr [rdx+rax*4]; add rax, rdx; jmp rax; 1: ret; 2: .fill 16, 4, -0x40
switch_absolute|cmp esi, 9; jae 3f; mov ecx, esi; jmp qword ptr [rbp+rcx*8]; 3: movzx eax, byte ptr [r8]; mov rax, qword ptr [rbp+rax*8+8]; shl rbx, 4; lea rcx, [rbx+0x40]; jmp rax; movzx edx, dil; jmp qword ptr [rdx*8+0x400000]; ret
EOF
)

pre_suf=("" "\x91|\x3f" "\x92|\x5f" "\x93|\x1f" "\x9e|\xc3")
i=0
while IFS='|' read -r name code; do
	[ -n "$name" ] || continue
	printf '.intel_syntax noprefix\n.text\n%s\n' "${code//; /$'\n'}" > "$TMP/$name.S"
	if ! as --64 -o "$TMP/$name.o" "$TMP/$name.S" 2> "$TMP/$name.err"; then
		echo "make_corpus.sh: snippet $name does not assemble:" >&2
		cat "$TMP/$name.err" >&2
		exit 1
	fi
	objcopy -O binary -j .text "$TMP/$name.o" "$TMP/$name.bin"
	cp "$TMP/$name.bin" "$OUT/translate/row-$name"
	ps=${pre_suf[$((i % 4 + 1))]}
	{ printf "${ps%|*}"; cat "$TMP/$name.bin"; printf "${ps#*|}"; } > "$OUT/translate/row-$name.v"
	i=$((i + 1))
done <<< "$snippets"

# Long blocks: the instruction limit and the byte limit of one block.
python3 - "$OUT/translate" <<'EOF'
import sys
d = sys.argv[1]
open(d + "/row-long-insns", "wb").write(b"\x90" + b"\x83\xc0\x01" * 80 + b"\xc3")
# add qword ptr fs:[rsp+rax*8+0x12345678], 0x12345678: ~50 bytes each once rewritten
open(d + "/row-long-bytes", "wb").write(b"\x90" + b"\x64\x48\x81\x84\xc4\x78\x56\x34\x12\x78\x56\x34\x12" * 70 + b"\xc3")
# 15-byte instructions, with and without rip-relative addressing
open(d + "/row-15-bytes", "wb").write(b"\x92" + b"\x66" * 6 + b"\x2e\x48\x81\x05\x00\x10\x00\x00\x11\x22\x33\x44" + b"\x66" * 4 + b"\x48\x81\x84\xc4\x78\x56\x34\x12\x78\x56\x34\x12\x3f")
EOF

# ---- real code: .text chunks of musl-static programs ----------------------
cat > "$TMP/prog.c" <<'EOF'
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static jmp_buf jb;
static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
int main(int argc, char **argv)
{
	int v[64];
	for (int i = 0; i < 64; i++)
		v[i] = (i * 7919) % 101;
	qsort(v, 64, sizeof(v[0]), cmp);
	char buf[128];
	snprintf(buf, sizeof(buf), "%d %s %.3f %lx", v[3], argv[0], sqrt(argc + 1.5), (long)strlen(buf));
	if (!setjmp(jb))
		longjmp(jb, 1);
	switch (argc) {
	case 1: puts(buf); break;
	case 2: puts(strchr(buf, ' ')); break;
	case 3: printf("%Lf\n", (long double)argc / 3); break;
	default: return memcmp(buf, argv[1], 4);
	}
	return 0;
}
EOF
n=0
for opt in -O2 -Os -O3; do
	extra=""
	[ "$opt" = -O3 ] && extra="-mavx2 -mfma -mbmi2"
	musl-gcc -static $opt $extra -o "$TMP/prog$opt" "$TMP/prog.c" -lm
	objcopy -O binary -j .text "$TMP/prog$opt" "$TMP/text$opt"
	size=$(stat -c %s "$TMP/text$opt")
	for frac in 0 13 29 47 61 83; do
		off=$((size * frac / 100))
		len=$((1024 + (frac * 37 % 3) * 1024))
		dd if="$TMP/text$opt" of="$OUT/translate/real-musl$opt-$frac" bs=1 skip="$off" count="$len" status=none
		n=$((n + 1))
	done
done

# ---- ELF seeds --------------------------------------------------------------
cat > "$TMP/tiny.c" <<'EOF'
static const char msg[] = "hi\n";
static long counter = 5;
void _start(void)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(1), "D"(1), "S"(msg), "d"(3) : "rcx", "r11", "memory");
	__asm__ volatile("syscall" :: "a"(231), "D"(counter) : "rcx", "r11");
	for (;;)
		;
}
EOF
common=(-nostdlib -ffreestanding -fno-stack-protector -Os -s -Wl,--build-id=none -Wl,-z,norelro -Wl,-z,noseparate-code)
gcc "${common[@]}" -static -fno-pie -no-pie -o "$OUT/elf/nostdlib-static" "$TMP/tiny.c"
gcc "${common[@]}" -static-pie -fPIE -o "$OUT/elf/nostdlib-static-pie" "$TMP/tiny.c"
gcc "${common[@]}" -fPIE -pie -Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1 -o "$OUT/elf/dynamic-interp" "$TMP/tiny.c"
head -c 100 "$OUT/elf/nostdlib-static" > "$OUT/elf/truncated-in-phdrs"
head -c 63 "$OUT/elf/nostdlib-static" > "$OUT/elf/truncated-in-ehdr"
size=$(stat -c %s "$OUT/elf/nostdlib-static")
head -c $((size - 40)) "$OUT/elf/nostdlib-static" > "$OUT/elf/truncated-in-segment"
# 32-bit class byte, and an ET_REL type
{ head -c 4 "$OUT/elf/nostdlib-static"; printf '\x01'; tail -c +6 "$OUT/elf/nostdlib-static"; } > "$OUT/elf/class32"
{ head -c 16 "$OUT/elf/nostdlib-static"; printf '\x01\x00'; tail -c +19 "$OUT/elf/nostdlib-static"; } > "$OUT/elf/type-rel"

echo "corpus: $(ls "$OUT/translate" | wc -l) translator seeds, $(ls "$OUT/elf" | wc -l) ELF seeds," \
     "$(cat "$OUT"/*/* | wc -c) bytes"
