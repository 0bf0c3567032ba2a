#include "translator/quick_decode.h"

#include <string.h>

/* Immediate or displacement after the ModRM bytes. */
enum imm {
	NO_IMM,
	IMM8,
	IMMZ,    /* 2 bytes with 0x66, else 4 */
	IMMV,    /* 8 with REX.W, 2 with 0x66, else 4 (mov r, imm) */
	REL8,    /* a direct branch */
	REL32,
};

/* The general-purpose register an instruction writes. */
enum dst {
	NO_DST,      /* none, or only rax/rdx (never rsp) */
	DST_REG,     /* ModRM.reg */
	DST_RM,      /* ModRM.rm when it names a register */
	DST_BOTH,    /* both (xchg) */
	DST_OPCODE,  /* the low 3 bits of the opcode (push/pop, mov r, imm) */
};

struct form {
	uint8_t known : 1;
	uint8_t modrm : 1;
	uint8_t ext : 1;       /* ModRM.reg extends the opcode: no register */
	uint8_t opreg : 1;     /* a register in the opcode's low 3 bits */
	uint8_t byte : 1;      /* 8-bit destination: never rsp */
	uint8_t stack : 1;     /* push/pop: 64 bits without REX.W, no 0x66 */
	uint8_t lea : 1;       /* address generation only: no memory access */
	uint8_t imm : 3;
	uint8_t dst;
	uint8_t regs;          /* the ModRM.reg values of the form (bit set) */
	uint8_t reg_reads;     /* ModRM.reg values that write nothing (cmp) */
};

#define ALL 0xff
#define RM(d)       {.known = 1, .modrm = 1, .dst = (d), .regs = ALL}
#define RM8(d)      {.known = 1, .modrm = 1, .byte = 1, .dst = (d), .regs = ALL}
#define ACC(i)      {.known = 1, .imm = (i), .dst = NO_DST}
#define GROUP(i, b, r, ro) {.known = 1, .modrm = 1, .ext = 1, .byte = (b), .imm = (i), .dst = DST_RM, .regs = (r), \
                            .reg_reads = (ro)}
#define BRANCH(i)   {.known = 1, .imm = (i)}

/* Two-operand arithmetic rows of the one-byte map: op r/m8, r8; op r/m, r;
 * op r8, r/m8; op r, r/m; op al, imm8; op eax, imm (cmp writes nothing). */
#define ARITH(base, w8, w, r8, r) \
	[(base) + 0] = RM8(w8), [(base) + 1] = RM(w), [(base) + 2] = RM8(r8), [(base) + 3] = RM(r), \
	[(base) + 4] = ACC(IMM8), [(base) + 5] = ACC(IMMZ)
#define ARITH_W(base) ARITH(base, DST_RM, DST_RM, DST_REG, DST_REG)

static const struct form one_byte[256] = {
	ARITH_W(0x00), ARITH_W(0x08), ARITH_W(0x10), ARITH_W(0x18),   /* add or adc sbb */
	ARITH_W(0x20), ARITH_W(0x28), ARITH_W(0x30),                  /* and sub xor */
	ARITH(0x38, NO_DST, NO_DST, NO_DST, NO_DST),                  /* cmp */
	[0x50 ... 0x57] = {.known = 1, .opreg = 1, .stack = 1, .dst = NO_DST},     /* push r */
	[0x58 ... 0x5f] = {.known = 1, .opreg = 1, .stack = 1, .dst = DST_OPCODE}, /* pop r */
	[0x63] = RM(DST_REG),                                         /* movsxd */
	[0x68] = {.known = 1, .stack = 1, .imm = IMMZ},               /* push imm32 */
	[0x6a] = {.known = 1, .stack = 1, .imm = IMM8},               /* push imm8 */
	[0x69] = {.known = 1, .modrm = 1, .imm = IMMZ, .dst = DST_REG, .regs = ALL},  /* imul r, r/m, imm */
	[0x6b] = {.known = 1, .modrm = 1, .imm = IMM8, .dst = DST_REG, .regs = ALL},
	[0x70 ... 0x7f] = BRANCH(REL8),                               /* jcc rel8 */
	[0x80] = GROUP(IMM8, 1, ALL, 1u << 7),                        /* add..cmp r/m8, imm8 */
	[0x81] = GROUP(IMMZ, 0, ALL, 1u << 7),                        /* add..cmp r/m, imm */
	[0x83] = GROUP(IMM8, 0, ALL, 1u << 7),                        /* add..cmp r/m, imm8 */
	[0x84] = RM8(NO_DST), [0x85] = RM(NO_DST),                    /* test */
	[0x86] = RM8(DST_BOTH), [0x87] = RM(DST_BOTH),                /* xchg */
	[0x88] = RM8(DST_RM), [0x89] = RM(DST_RM),                    /* mov */
	[0x8a] = RM8(DST_REG), [0x8b] = RM(DST_REG),
	[0x8d] = {.known = 1, .modrm = 1, .lea = 1, .dst = DST_REG, .regs = ALL},
	[0x98] = ACC(NO_IMM), [0x99] = ACC(NO_IMM),                   /* cdqe, cqo */
	[0xa8] = ACC(IMM8), [0xa9] = ACC(IMMZ),                       /* test al/eax, imm */
	[0xb0 ... 0xb7] = {.known = 1, .opreg = 1, .byte = 1, .imm = IMM8, .dst = DST_OPCODE},  /* mov r8, imm8 */
	[0xb8 ... 0xbf] = {.known = 1, .opreg = 1, .imm = IMMV, .dst = DST_OPCODE},            /* mov r, imm */
	[0xc0] = GROUP(IMM8, 1, 0xbf, 0), [0xc1] = GROUP(IMM8, 0, 0xbf, 0),   /* shifts, not /6 */
	[0xd0] = GROUP(NO_IMM, 1, 0xbf, 0), [0xd1] = GROUP(NO_IMM, 0, 0xbf, 0),
	[0xd2] = GROUP(NO_IMM, 1, 0xbf, 0), [0xd3] = GROUP(NO_IMM, 0, 0xbf, 0),
	[0xc6] = GROUP(IMM8, 1, 0x01, 0), [0xc7] = GROUP(IMMZ, 0, 0x01, 0),   /* mov r/m, imm */
	[0xe9] = BRANCH(REL32), [0xeb] = BRANCH(REL8),                /* jmp */
	[0xfe] = GROUP(NO_IMM, 1, 0x03, 0), [0xff] = GROUP(NO_IMM, 0, 0x03, 0),  /* inc, dec */
};

static const struct form two_byte[256] = {    /* after 0x0f */
	[0x40 ... 0x4f] = RM(DST_REG),                                /* cmovcc */
	[0x80 ... 0x8f] = BRANCH(REL32),                              /* jcc rel32 */
	[0x90 ... 0x9f] = GROUP(NO_IMM, 1, 0x01, 0),                  /* setcc */
	[0xaf] = RM(DST_REG),                                         /* imul r, r/m */
	[0xb6] = RM(DST_REG), [0xb7] = RM(DST_REG),                   /* movzx */
	[0xbe] = RM(DST_REG), [0xbf] = RM(DST_REG),                   /* movsx */
};

/* quick_decode, or with guest true quick_decode_guest */
static bool decode(const uint8_t *code, size_t len, uint64_t rx, struct quick_insn *q, bool guest)
{
	size_t n = 0;
	bool p66 = false, p67 = false;
	uint8_t rex = 0;
	/* 0x66 and 0x67, each at most once, then at most one REX */
	for (; n < len && n < 2; n++) {
		if (code[n] == 0x66 && !p66)
			p66 = true;
		else if (code[n] == 0x67 && !p67)
			p67 = true;
		else
			break;
	}
	size_t legacy = n;
	if (n < len && (code[n] & 0xf0) == 0x40)
		rex = code[n++];
	if (n >= len)
		return false;
	const struct form *fm = &one_byte[code[n]];
	if (code[n++] == 0x0f) {
		if (n >= len)
			return false;
		fm = &two_byte[code[n++]];
	}
	if (!fm->known)
		return false;
	bool prefixed = p66 || p67 || rex;
	if ((fm->imm == REL8 || fm->imm == REL32) && prefixed)
		return false;   /* a prefixed branch: its length differs between CPUs */
	if (fm->stack && p66)
		return false;
	bool rex_w = rex & 8, rex_r = rex & 4, rex_x = rex & 2, rex_b = rex & 1;

	int written[2] = {-1, -1};
	unsigned named = 0;     /* the registers the encoding names, by number */
	bool memory = false;
	if (fm->modrm) {
		if (n >= len)
			return false;
		uint8_t modrm = code[n++], mod = modrm >> 6, reg = modrm >> 3 & 7, rm = modrm & 7;
		if (!(fm->regs >> reg & 1))
			return false;
		bool writes = !(fm->reg_reads >> reg & 1);
		if (!fm->ext)
			named |= 1u << (reg | (rex_r ? 8 : 0));
		if (mod == 3) {
			if (fm->lea)
				return false;
			named |= 1u << (rm | (rex_b ? 8 : 0));
			if (writes && (fm->dst == DST_RM || fm->dst == DST_BOTH))
				written[0] = rm | (rex_b ? 8 : 0);
		} else {
			/* a memory operand: 32-bit addressing (an AGEN needs none);
			 * the instruction-pointer-relative form goes to the full check */
			if ((!p67 && !fm->lea && !guest) || (mod == 0 && rm == 5))
				return false;
			memory = !fm->lea;
			unsigned disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
			if (rm == 4) {
				if (n >= len)
					return false;
				uint8_t sib = code[n++], base = sib & 7, index = (sib >> 3 & 7) | (rex_x ? 8 : 0);
				/* no base, disp32: Zydis reads REX.B there as r13d */
				if (mod == 0 && base == 5) {
					if (rex_b)
						return false;
					disp = 4;
				} else {
					named |= 1u << (base | (rex_b ? 8 : 0));
				}
				if (index != 4)
					named |= 1u << index;
			} else {
				named |= 1u << (rm | (rex_b ? 8 : 0));
			}
			n += disp;
		}
		if (writes && (fm->dst == DST_REG || fm->dst == DST_BOTH))
			written[1] = reg | (rex_r ? 8 : 0);
	} else if (fm->opreg) {
		int r = (code[n - 1] & 7) | (rex_b ? 8 : 0);
		named |= 1u << r;
		if (fm->dst == DST_OPCODE)
			written[0] = r;
	}
	size_t imm_at = n;
	switch (fm->imm) {
	case IMM8: case REL8: n += 1; break;
	case IMMZ: n += rex_w || !p66 ? 4 : 2; break;
	case IMMV: n += rex_w ? 8 : p66 ? 2 : 4; break;
	case REL32: n += 4; break;
	default: break;
	}
	if (n > len)
		return false;

	bool wide = !fm->byte && (rex_w || fm->stack);
	*q = (struct quick_insn){.len = (uint8_t)n, .writes_rsp64 = wide && (written[0] == 4 || written[1] == 4),
	                         .memory = memory, .addr32 = p67, .legacy = (uint8_t)legacy,
	                         .names_r11 = named >> 11 & 1};
	if (fm->imm == REL8 || fm->imm == REL32) {
		int32_t rel;
		if (fm->imm == REL8) {
			rel = (int8_t)code[imm_at];
		} else {
			memcpy(&rel, code + imm_at, 4);
		}
		q->branch = true;
		q->jmp = code[0] == 0xe9 || code[0] == 0xeb;
		q->cond = (code[0] == 0x0f ? code[1] : code[0]) & 15;   /* 70+cc, 0f 80+cc */
		q->target = rx + n + (uint64_t)(int64_t)rel;
	}
	return true;
}

bool quick_decode(const uint8_t *code, size_t len, uint64_t rx, struct quick_insn *q)
{
	return decode(code, len, rx, q, false);
}

bool quick_decode_guest(const uint8_t *code, size_t len, uint64_t pc, struct quick_insn *q)
{
	return decode(code, len, pc, q, true);
}

size_t quick_confine(const uint8_t *code, const struct quick_insn *q, uint8_t out[QUICK_MAX_LEN])
{
	size_t n = 0;
	out[n++] = 0x67;
	for (size_t i = 0; i < q->len; i++)
		if (i >= q->legacy || code[i] != 0x67) {
			if (n == QUICK_MAX_LEN)
				return 0;
			out[n++] = code[i];
		}
	return n;
}
