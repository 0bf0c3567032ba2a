/*
 * Returns in three shapes, as native code (bench/return_shapes runs them):
 *   native  call / ret: the CPU's return stack predicts the ret
 *   ibl     the translator's return today: the caller pushes the return
 *           address and jumps; the callee's ret saves r11, pops the target,
 *           stores it to a slot and jumps through a table indexed by its
 *           low bits; the landing compares the slot with its own address
 *           and reloads r11 (translate.c: ibl_lookup, prologue)
 *   ring    a shadow stack for the return stack buffer: rsp switched to a
 *           ring of host return addresses around a host call and ret (a
 *           16-bit index loaded with `mov sp`, so the ring wraps without
 *           touching flags); each landing puts rsp back and compares
 * r15 is the context: 0 r11 slot, 8 target slot, 16 saved rsp, 24 ring
 * base, 32 ring index, 64 the table (index = return "address" 1..16).
 * Each run_X(n, seq, ctx) makes n calls of one function from the call site
 * seq[i % 4096] of 16 and returns n.
 */
	.intel_syntax noprefix
	.text

.macro loop_head v
	.globl run_\v
run_\v:
	push rbx
	push r15
	push r12
	mov r15, rdx
	xor eax, eax
	xor ecx, ecx
loop_\v:
	cmp rcx, rdi
	jae done_\v
	mov ebx, ecx
	and ebx, 4095
	movzx ebx, byte ptr [rsi + rbx]
	lea r12, [rip + sites_\v]
	inc rcx
	jmp [r12 + rbx * 8]
done_\v:
	pop r12
	pop r15
	pop rbx
	ret
fail_\v:
	ud2
.endm

	loop_head native
	.irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16
site_native\i:
	call callee_native
	jmp loop_native
	.endr
callee_native:
	add rax, 1
	ret

	loop_head ibl
	.irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16
site_ibl\i:
	push \i
	jmp callee_ibl
landing_ibl\i:
	cmp qword ptr [r15 + 8], \i
	jne fail_ibl
	mov r11, [r15]
	jmp loop_ibl
	.endr
callee_ibl:
	add rax, 1
	mov [r15], r11
	pop r11
	mov [r15 + 8], r11
	movzx r11d, r11w
	jmp [r15 + r11 * 8 + 64]

	loop_head ring
	.irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16
site_ring\i:
	push \i
	mov [r15 + 16], rsp
	mov rsp, [r15 + 24]
	mov sp, [r15 + 32]
	call enter_ring\i
	mov [r15 + 32], sp              /* the landing */
	mov rsp, [r15 + 16]
	lea rsp, [rsp + 8]
	cmp qword ptr [r15 + 8], \i
	jne fail_ring
	mov r11, [r15]
	jmp loop_ring
enter_ring\i:
	mov [r15 + 32], sp
	mov rsp, [r15 + 16]
	jmp callee_ring
	.endr
callee_ring:
	add rax, 1
	mov [r15], r11
	mov r11, [rsp]
	mov [r15 + 8], r11
	mov [r15 + 16], rsp
	mov rsp, [r15 + 24]
	mov sp, [r15 + 32]
	ret

	.section .data.rel.ro
	.balign 8
	.globl ibl_landings
/* name: .quad prefix1 .. prefix16 */
.macro table name, prefix
\name:
	.irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16
	.quad \prefix\i
	.endr
.endm
	table sites_native, site_native
	table sites_ibl, site_ibl
	table sites_ring, site_ring
	table ibl_landings, landing_ibl

	.section .note.GNU-stack, "", @progbits
