/*
 * Gates: the only passages between translated guest code and trusted code.
 *
 * Translated code enters a gate by jumping to gate_exit (after storing an
 * exit id in the context) or to gate_ibl_miss (with the guest target in
 * r11).  The gate saves every guest register, the flags and the FPU/vector
 * state into the runtime context (addressed through GS, see ctx.h), switches
 * to the monitor stack, clears DF, gives the C code its own MXCSR and calls
 * gate_dispatch(ctx).  That returns the host address to resume at, or 0 to
 * leave the guest for good; the gate restores the guest state and jumps.
 * What the gates trust (the monitor stack, the resume address, the fast
 * gate's table) is in their own data at the end of this file, reached
 * rip-relative: no gs: operand, and so no translated code, can name it.
 *
 * The guest stack is never touched here: the guest may keep data below its
 * rsp (the red zone), and rsp is a guest address anyway.
 */
#include "gates/ctx.h"

	.intel_syntax noprefix
	.text

/* ymm0-15 to and from the light form's area (ctx.h). */
.macro save_ymm
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqa gs:[CTX_YMM + \n * 32], ymm\n
	.endr
.endm
.macro restore_ymm
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqa ymm\n, gs:[CTX_YMM + \n * 32]
	.endr
.endm
/* xmm0-15 only, the upper halves zero and in their initial configuration
 * (vzeroupper first; VEX.128 loads keep them so). */
.macro restore_xmm
	vzeroupper
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqa xmm\n, gs:[CTX_YMM + \n * 32]
	.endr
.endm

/* uint64_t gate_enter_guest(uint64_t host_pc): run the guest from host_pc
 * with the registers in the context; returns when gate_dispatch returns 0. */
	.globl gate_enter_guest
	.type gate_enter_guest, @function
gate_enter_guest:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	sub rsp, 8                       /* keep the C stack 16-byte aligned */
	mov [rip + gate_host_rsp], rsp
	mov [rip + gate_resume], rdi
	jmp gate_resume_guest
	.size gate_enter_guest, .-gate_enter_guest

/* Target of every exit stub: the exit id is in gs:[CTX_EXIT_ID]. */
	.globl gate_exit
	.type gate_exit, @function
gate_exit:
	/* The fast gate (gate.h): GATE_FAST_HC at an exit with a known
	 * continuation.  Until pushfq on the host stack nothing here may
	 * change the flags (lea, mov, pext and jrcxz only): the full gate
	 * saves them as the guest left them. */
	mov gs:[CTX_GPR(1)], rcx
	lea rcx, [rax - GATE_FAST_HC]
	jrcxz gate_fast_candidate
gate_not_fast:
	mov rcx, gs:[CTX_GPR(1)]
	jmp gate_full
gate_fast_candidate:
	mov gs:[CTX_GPR(2)], rdx
	mov ecx, gs:[CTX_EXIT_ID]
	pext rcx, rcx, [rip + gate_fast_mask]   /* bounded to the table, flags kept */
	mov rdx, [rip + gate_fast_table]
	mov rcx, [rdx + rcx * 8]
	mov rdx, gs:[CTX_GPR(2)]
	jrcxz gate_not_fast
	mov [rip + gate_resume], rcx
	mov gs:[CTX_GPR(0)], rax
	mov gs:[CTX_GPR(4)], rsp
	mov gs:[CTX_GPR(6)], rsi
	mov gs:[CTX_GPR(7)], rdi
	mov gs:[CTX_GPR(8)], r8
	mov gs:[CTX_GPR(9)], r9
	mov gs:[CTX_GPR(10)], r10
	mov gs:[CTX_GPR(11)], r11
	mov rsp, [rip + gate_host_rsp]
	pushfq
	pop qword ptr gs:[CTX_RFLAGS]
	cld
	mov rdi, [rip + gate_ctx]
	call gate_fast_hypercall
	mov rcx, GATE_SLOW
	cmp rax, rcx
	jne 1f
	lea rcx, [rip + gate_full]       /* refused: the full gate, as if never here */
	mov [rip + gate_resume], rcx
	mov rax, gs:[CTX_GPR(0)]
1:	push qword ptr gs:[CTX_RFLAGS]
	popfq
	mov rcx, gs:[CTX_GPR(1)]
	mov rdx, gs:[CTX_GPR(2)]
	mov rsi, gs:[CTX_GPR(6)]
	mov rdi, gs:[CTX_GPR(7)]
	mov r8, gs:[CTX_GPR(8)]
	mov r9, gs:[CTX_GPR(9)]
	mov r10, gs:[CTX_GPR(10)]
	mov r11, gs:[CTX_GPR(11)]
	mov rsp, gs:[CTX_GPR(4)]
	mov esp, esp                     /* a guest rsp is always below 4 GiB */
	jmp qword ptr [rip + gate_resume]
gate_full:
	mov gs:[CTX_GPR(0)], rax
	mov gs:[CTX_GPR(1)], rcx
	mov gs:[CTX_GPR(2)], rdx
	mov gs:[CTX_GPR(3)], rbx
	mov gs:[CTX_GPR(4)], rsp
	mov gs:[CTX_GPR(5)], rbp
	mov gs:[CTX_GPR(6)], rsi
	mov gs:[CTX_GPR(7)], rdi
	mov gs:[CTX_GPR(8)], r8
	mov gs:[CTX_GPR(9)], r9
	mov gs:[CTX_GPR(10)], r10
	mov gs:[CTX_GPR(11)], r11
	mov gs:[CTX_GPR(12)], r12
	mov gs:[CTX_GPR(13)], r13
	mov gs:[CTX_GPR(14)], r14
	mov gs:[CTX_GPR(15)], r15
	mov rsp, [rip + gate_host_rsp]
	pushfq
	pop qword ptr gs:[CTX_RFLAGS]
	cld
	/* The FPU state in the light form while the guest's x87 state is in
	 * its initial configuration (ctx.h), otherwise by FXSAVE; by XSAVEOPT
	 * where the host does not report XINUSE.  While no guest code can
	 * touch the x87 state or the upper halves (gate_guest_fpu), both are
	 * initial: no need to ask XINUSE.  An x87 state the CPU reports in
	 * use but that is idle (default control word, status clear, every
	 * register empty, no last opcode: what the ABI leaves at a call, so
	 * at nearly every system call) goes the light way too, and the way
	 * back makes it initial (XINUSE bit 0 clear): one musl printf("%f")
	 * would otherwise cost every later gate an FXSAVE and FXRSTOR. */
	cmp byte ptr [rip + gate_fpu_light], 0
	je 1f
	xor eax, eax                     /* what XINUSE says then */
	test byte ptr [rip + gate_guest_fpu], GUEST_FPU_X87 | GUEST_FPU_YMM
	jz 6f
	mov ecx, 1
	xgetbv                           /* XINUSE: state not in its initial configuration */
	test al, 1
	jnz 8f
6:	save_ymm
	stmxcsr gs:[CTX_MXCSR]
	mov qword ptr gs:[CTX_FPU_FORM], FPU_FORM_LIGHT
	test al, 4                       /* the upper halves in use? */
	jnz 2f
	mov qword ptr gs:[CTX_FPU_FORM], FPU_FORM_LIGHT_XMM
	jmp 2f
8:	fxsave64 gs:[CTX_XSAVE]          /* the x87 in use: x87, xmm, MXCSR */
	cmp qword ptr gs:[CTX_XSAVE], X87_IDLE   /* FCW, FSW, FTW, FOP */
	je 6b
	mov qword ptr gs:[CTX_FPU_FORM], FPU_FORM_FX_XMM
	test al, 4
	jz 2f
	save_ymm
	mov qword ptr gs:[CTX_FPU_FORM], FPU_FORM_FX
	jmp 2f
1:	mov eax, CTX_XSAVE_MASK
	xor edx, edx
	xsaveopt64 gs:[CTX_XSAVE]
	mov qword ptr gs:[CTX_FPU_FORM], FPU_FORM_XSAVE
2:	ldmxcsr [rip + gate_mxcsr_host]
	mov rdi, [rip + gate_ctx]
	call gate_dispatch
	test rax, rax
	jz gate_leave
	mov [rip + gate_resume], rax
gate_resume_guest:
	cmp qword ptr gs:[CTX_FPU_FORM], FPU_FORM_XSAVE
	je 2f
	cmp qword ptr gs:[CTX_FPU_FORM], FPU_FORM_FX
	jae 8f
	test byte ptr [rip + gate_guest_fpu], GUEST_FPU_X87
	jz 1f                            /* no guest code can see the x87 state */
	mov ecx, 1
	xgetbv
	test al, 1
	jz 1f
	mov eax, 1                       /* trusted code used the x87, or the */
	xor edx, edx                     /* guest's was idle: back to its */
	xrstor64 [rip + gate_x87_init]   /* initial configuration */
1:	cmp qword ptr gs:[CTX_FPU_FORM], FPU_FORM_LIGHT
	jne 4f
	restore_ymm
	jmp 5f
4:	restore_xmm                      /* as clean as the guest left them: legacy */
5:	ldmxcsr gs:[CTX_MXCSR]           /* SSE code after dirty upper halves is slow */
	jmp 3f
2:	test byte ptr gs:[CTX_XSTATE_BV], 1     /* an x87 state or upper halves not */
	jz 6f                                   /* initial come back: guest code may */
	or byte ptr [rip + gate_guest_fpu], GUEST_FPU_X87   /* see them from now on */
6:	test byte ptr gs:[CTX_XSTATE_BV], 4
	jz 7f
	or byte ptr [rip + gate_guest_fpu], GUEST_FPU_YMM
7:	mov eax, CTX_XSAVE_MASK
	xor edx, edx
	xrstor64 gs:[CTX_XSAVE]
	jmp 3f
8:	je 9f                            /* FX: the upper halves in use */
	vzeroupper                       /* FX_XMM: left initial, as the guest had */
	fxrstor64 gs:[CTX_XSAVE]         /* them (FXRSTOR leaves them alone) */
	jmp 3f
9:	fxrstor64 gs:[CTX_XSAVE]
	restore_ymm
3:	push qword ptr gs:[CTX_RFLAGS]
	popfq
	mov rax, gs:[CTX_GPR(0)]
	mov rcx, gs:[CTX_GPR(1)]
	mov rdx, gs:[CTX_GPR(2)]
	mov rbx, gs:[CTX_GPR(3)]
	mov rsp, gs:[CTX_GPR(4)]
	mov esp, esp                     /* a guest rsp is always below 4 GiB */
	mov rbp, gs:[CTX_GPR(5)]
	mov rsi, gs:[CTX_GPR(6)]
	mov rdi, gs:[CTX_GPR(7)]
	mov r8, gs:[CTX_GPR(8)]
	mov r9, gs:[CTX_GPR(9)]
	mov r10, gs:[CTX_GPR(10)]
	mov r11, gs:[CTX_GPR(11)]
	mov r12, gs:[CTX_GPR(12)]
	mov r13, gs:[CTX_GPR(13)]
	mov r14, gs:[CTX_GPR(14)]
	mov r15, gs:[CTX_GPR(15)]
	jmp qword ptr [rip + gate_resume]

gate_leave:
	mov rsp, [rip + gate_host_rsp]
	add rsp, 8
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
	.size gate_exit, .-gate_exit

/* An indirect branch whose target is not in the IBL table: the guest
 * target is in its slot, the guest's r11 in the IBL slot, every other
 * register live. */
	.globl gate_ibl_miss
	.type gate_ibl_miss, @function
gate_ibl_miss:
	mov r11, gs:[CTX_IBL_R11]
	mov qword ptr gs:[CTX_EXIT_ID], EXIT_IBL_MISS
	jmp gate_exit
	.size gate_ibl_miss, .-gate_ibl_miss

/* The gates' own state (gate.h): no gs: operand can name it. */
	.data
	.balign 8
gate_host_rsp:   .quad 0         /* monitor stack while the guest runs */
gate_resume:     .quad 0         /* host address the gate jumps to on its way out */
	.globl gate_ctx, gate_fast_table, gate_fast_mask, gate_fpu_light, gate_guest_fpu
	.hidden gate_ctx, gate_fast_table, gate_fast_mask, gate_fpu_light, gate_guest_fpu
gate_ctx:        .quad 0
gate_fast_table: .quad gate_fast_none
gate_fast_mask:  .quad 0
gate_fpu_light:  .byte 0         /* the host reports XINUSE (XGETBV 1) */
gate_guest_fpu:  .byte 0         /* GUEST_FPU_* some guest code can touch */

	.section .rodata
	.balign 8
gate_fast_none:  .quad 0         /* the table before a translator has one */
gate_mxcsr_host: .long 0x1f80    /* MXCSR the trusted C code runs with */
	.balign 64
gate_x87_init:   .fill 576, 1, 0 /* XSAVE image whose header says: all initial */

	.section .note.GNU-stack,"",@progbits
