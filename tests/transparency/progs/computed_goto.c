// Exercises computed goto (&&label dispatch): a threaded bytecode interpreter with an absolute label table and one with a relative-offset table; argv[1] = loop count.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { OP_PUSH, OP_ADD, OP_SUB, OP_MUL, OP_MOD, OP_DUP, OP_SWAP, OP_DROP, OP_OVER,
       OP_JMP, OP_JZ, OP_JNZ, OP_LT, OP_LOAD, OP_STORE, OP_CALL, OP_RET, OP_PRINT, OP_HALT, OP_INC, OP_DEC };

struct vm { long stack[256]; int sp; long vars[16]; int rstack[64]; int rsp; long printed; unsigned long steps; };

/* Absolute address table: goto *table[op]. */
static long run_abs(const long *code, struct vm *vm)
{
	static void *const table[] = {
		&&do_push, &&do_add, &&do_sub, &&do_mul, &&do_mod, &&do_dup, &&do_swap, &&do_drop, &&do_over,
		&&do_jmp, &&do_jz, &&do_jnz, &&do_lt, &&do_load, &&do_store, &&do_call, &&do_ret, &&do_print,
		&&do_halt, &&do_inc, &&do_dec};
	int pc = 0;
	long *sp = vm->stack + vm->sp;
#define NEXT do { vm->steps++; goto *table[code[pc++]]; } while (0)
	NEXT;
do_push: *++sp = code[pc++]; NEXT;
do_add: sp[-1] += sp[0]; sp--; NEXT;
do_sub: sp[-1] -= sp[0]; sp--; NEXT;
do_mul: sp[-1] *= sp[0]; sp--; NEXT;
do_mod: sp[-1] %= sp[0]; sp--; NEXT;
do_dup: sp[1] = sp[0]; sp++; NEXT;
do_swap: { long t = sp[0]; sp[0] = sp[-1]; sp[-1] = t; } NEXT;
do_drop: sp--; NEXT;
do_over: sp[1] = sp[-1]; sp++; NEXT;
do_jmp: pc = (int)code[pc]; NEXT;
do_jz: if (*sp-- == 0) pc = (int)code[pc]; else pc++; NEXT;
do_jnz: if (*sp-- != 0) pc = (int)code[pc]; else pc++; NEXT;
do_lt: sp[-1] = sp[-1] < sp[0]; sp--; NEXT;
do_load: *++sp = vm->vars[code[pc++]]; NEXT;
do_store: vm->vars[code[pc++]] = *sp--; NEXT;
do_call: vm->rstack[vm->rsp++] = pc + 1; pc = (int)code[pc]; NEXT;
do_ret: pc = vm->rstack[--vm->rsp]; NEXT;
do_print: printf("  out: %ld\n", *sp--); vm->printed++; NEXT;
do_inc: sp[0]++; NEXT;
do_dec: sp[0]--; NEXT;
do_halt:
	vm->sp = (int)(sp - vm->stack);
	return vm->sp > 0 ? *sp : 0;
#undef NEXT
}

/* Relative table (position independent style): goto *(&&base + offs[op]). */
static long run_rel(const long *code, struct vm *vm)
{
	static const int offs[] = {
		&&do_push - &&do_push, &&do_add - &&do_push, &&do_sub - &&do_push, &&do_mul - &&do_push,
		&&do_mod - &&do_push, &&do_dup - &&do_push, &&do_swap - &&do_push, &&do_drop - &&do_push,
		&&do_over - &&do_push, &&do_jmp - &&do_push, &&do_jz - &&do_push, &&do_jnz - &&do_push,
		&&do_lt - &&do_push, &&do_load - &&do_push, &&do_store - &&do_push, &&do_call - &&do_push,
		&&do_ret - &&do_push, &&do_print - &&do_push, &&do_halt - &&do_push, &&do_inc - &&do_push,
		&&do_dec - &&do_push};
	int pc = 0;
	long *sp = vm->stack + vm->sp;
#define NEXT do { vm->steps++; goto *(&&do_push + offs[code[pc++]]); } while (0)
	NEXT;
do_push: *++sp = code[pc++]; NEXT;
do_add: sp[-1] += sp[0]; sp--; NEXT;
do_sub: sp[-1] -= sp[0]; sp--; NEXT;
do_mul: sp[-1] *= sp[0]; sp--; NEXT;
do_mod: sp[-1] %= sp[0]; sp--; NEXT;
do_dup: sp[1] = sp[0]; sp++; NEXT;
do_swap: { long t = sp[0]; sp[0] = sp[-1]; sp[-1] = t; } NEXT;
do_drop: sp--; NEXT;
do_over: sp[1] = sp[-1]; sp++; NEXT;
do_jmp: pc = (int)code[pc]; NEXT;
do_jz: if (*sp-- == 0) pc = (int)code[pc]; else pc++; NEXT;
do_jnz: if (*sp-- != 0) pc = (int)code[pc]; else pc++; NEXT;
do_lt: sp[-1] = sp[-1] < sp[0]; sp--; NEXT;
do_load: *++sp = vm->vars[code[pc++]]; NEXT;
do_store: vm->vars[code[pc++]] = *sp--; NEXT;
do_call: vm->rstack[vm->rsp++] = pc + 1; pc = (int)code[pc]; NEXT;
do_ret: pc = vm->rstack[--vm->rsp]; NEXT;
do_print: printf("  out: %ld\n", *sp--); vm->printed++; NEXT;
do_inc: sp[0]++; NEXT;
do_dec: sp[0]--; NEXT;
do_halt:
	vm->sp = (int)(sp - vm->stack);
	return vm->sp > 0 ? *sp : 0;
#undef NEXT
}

static long code[512];
static int ncode;
static int emit(long v) { code[ncode] = v; return ncode++; }
static void emit2(long op, long arg) { emit(op); emit(arg); }

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	long prog1[64], prog2[64];
	int n1, n2, loop, exitref, sub, sloop, sexit, outer;

	/* program 1: acc = sum of i*i mod 1000003 for i in [0, n) */
	ncode = 0;
	emit2(OP_PUSH, 0); emit2(OP_STORE, 0);
	emit2(OP_PUSH, 0); emit2(OP_STORE, 1);
	loop = ncode;
	emit2(OP_LOAD, 1); emit2(OP_PUSH, n); emit(OP_LT);
	emit(OP_JZ); exitref = emit(0);
	emit2(OP_LOAD, 1); emit(OP_DUP); emit(OP_MUL);
	emit2(OP_LOAD, 0); emit(OP_ADD); emit2(OP_PUSH, 1000003); emit(OP_MOD); emit2(OP_STORE, 0);
	emit2(OP_LOAD, 1); emit(OP_INC); emit2(OP_STORE, 1);
	emit2(OP_JMP, loop);
	code[exitref] = ncode;
	emit2(OP_LOAD, 0); emit(OP_DUP); emit(OP_PRINT); emit(OP_HALT);
	n1 = ncode;
	for (int i = 0; i < n1; i++)
		prog1[i] = code[i];

	/* program 2: print fib(k) for k = 10, 20, ..., 90 using a subroutine; leave k on the stack */
	ncode = 0;
	emit2(OP_PUSH, 10); emit2(OP_STORE, 2);
	outer = ncode;
	emit2(OP_LOAD, 2); emit2(OP_STORE, 3);
	emit(OP_CALL); sub = emit(0);
	emit(OP_PRINT);
	emit2(OP_LOAD, 2); emit2(OP_PUSH, 10); emit(OP_ADD); emit(OP_DUP); emit2(OP_STORE, 2);
	emit2(OP_PUSH, 91); emit(OP_LT); emit2(OP_JNZ, outer);
	emit2(OP_LOAD, 2); emit(OP_HALT);
	code[sub] = ncode; /* fib(n = var 3): a=0, b=1; while (n) { n--; (a, b) = (b, a+b); } push a */
	emit2(OP_PUSH, 0); emit2(OP_PUSH, 1);
	sloop = ncode;
	emit2(OP_LOAD, 3); emit(OP_JZ); sexit = emit(0);
	emit2(OP_LOAD, 3); emit(OP_DEC); emit2(OP_STORE, 3);
	emit(OP_DUP); emit2(OP_STORE, 4); emit(OP_ADD); emit2(OP_LOAD, 4); emit(OP_SWAP);
	emit2(OP_JMP, sloop);
	code[sexit] = ncode;
	emit(OP_DROP); emit(OP_RET);
	n2 = ncode;
	for (int i = 0; i < n2; i++)
		prog2[i] = code[i];

	static struct vm vm;
	for (int pass = 0; pass < 2; pass++) {
		long (*run)(const long *, struct vm *) = pass ? run_rel : run_abs;
		printf("%s table:\n", pass ? "relative" : "absolute");
		vm.sp = 0; vm.rsp = 0; vm.steps = 0; vm.printed = 0;
		long r1 = run(prog1, &vm);
		printf("  sumsq(%ld) result %ld steps %lu\n", n, r1, vm.steps);
		vm.sp = 0; vm.rsp = 0; vm.steps = 0; vm.printed = 0;
		long r2 = run(prog2, &vm);
		printf("  fib result %ld steps %lu printed %ld\n", r2, vm.steps, vm.printed);
	}
	return 0;
}
