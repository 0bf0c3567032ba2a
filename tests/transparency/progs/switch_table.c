// Exercises switch statements compiled to jump tables (dense switches with distinct code per case), Duff's device, a switch-driven state machine, sparse switches; argv[1] = iterations.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static volatile uint32_t sink;
__attribute__((noinline)) static uint32_t dense(uint32_t op, uint32_t x)
{
	switch (op) {
	case 0: return x + 1;
	case 1: return x * 3;
	case 2: return x ^ 0x5a5a5a5a;
	case 3: return x >> 3;
	case 4: return x << 5 | x >> 27;
	case 5: return ~x;
	case 6: return x * x;
	case 7: return x - 12345;
	case 8: return x / 7;
	case 9: return x % 1000003;
	case 10: return (x & 0xffff) * (x >> 16);
	case 11: return x + (x >> 11);
	case 12: sink = x; return x | 1;
	case 13: return x & 0xf0f0f0f0;
	case 14: return x * 2654435761u;
	case 15: return __builtin_popcount(x) + x;
	case 16: return x ^ (x >> 7);
	case 17: return x ^ (x << 9);
	case 18: return (x >> 16) | (x << 16);
	case 19: return x + 0x9e3779b9;
	case 20: return x / 3 + x / 5;
	case 21: return x - (x >> 2);
	case 22: return x ? x - 1 : 0xffffffff;
	case 23: return x * 5 + 7;
	case 24: return x ^ 0xdeadbeef;
	case 25: return (x * 17) >> 1;
	case 26: return x | (x >> 1);
	case 27: return x % 65521;
	case 28: return x + op * 1000;
	case 29: return (x << 1) - x / 2;
	case 30: return __builtin_bswap32(x);
	case 31: return x * 31 + 17;
	default: return x + op;
	}
}

/* Same shape with a char key, the kind used by lexers. */
__attribute__((noinline)) static int classify(int c)
{
	switch (c) {
	case 'a': case 'e': case 'i': case 'o': case 'u': return 1;
	case 'b': case 'c': case 'd': case 'f': case 'g': return 2;
	case 'h': case 'j': case 'k': case 'l': case 'm': return 3;
	case 'n': case 'p': case 'q': case 'r': case 's': return 4;
	case 't': case 'v': case 'w': case 'x': case 'y': case 'z': return 5;
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9': return 6;
	case ' ': case '\t': case '\n': return 7;
	case '(': case ')': case '[': case ']': case '{': case '}': return 8;
	case '+': case '-': case '*': case '/': case '%': return 9;
	default: return 0;
	}
}

__attribute__((noinline)) static long sparse(long k)
{
	switch (k) {
	case 1: return 10;
	case 100: return 20;
	case 1000: return 30;
	case 10000: return 40;
	case 100000: return 50;
	case -5: return 60;
	case 123456789: return 70;
	case 1L << 40: return 80;
	default: return -1;
	}
}

__attribute__((noinline)) static void duff_copy(short *to, const short *from, int count)
{
	int n = (count + 7) / 8;
	if (count <= 0)
		return;
	switch (count % 8) {
	case 0: do { *to++ = *from++; /* fallthrough */
	case 7: *to++ = *from++; /* fallthrough */
	case 6: *to++ = *from++; /* fallthrough */
	case 5: *to++ = *from++; /* fallthrough */
	case 4: *to++ = *from++; /* fallthrough */
	case 3: *to++ = *from++; /* fallthrough */
	case 2: *to++ = *from++; /* fallthrough */
	case 1: *to++ = *from++;
		} while (--n > 0);
	}
}

enum st { S_START, S_INT, S_FRAC, S_EXP_SIGN, S_EXP, S_ERR };
/* Recognise decimal numbers like -12.5e+3 with a switch-based state machine. */
static int is_number(const char *s)
{
	enum st state = S_START;
	if (*s == '-' || *s == '+')
		s++;
	for (; *s; s++) {
		int c = *s, digit = c >= '0' && c <= '9';
		switch (state) {
		case S_START: state = digit ? S_INT : S_ERR; break;
		case S_INT: state = digit ? S_INT : c == '.' ? S_FRAC : (c == 'e' || c == 'E') ? S_EXP_SIGN : S_ERR; break;
		case S_FRAC: state = digit ? S_FRAC : (c == 'e' || c == 'E') ? S_EXP_SIGN : S_ERR; break;
		case S_EXP_SIGN: state = (digit || c == '+' || c == '-') ? S_EXP : S_ERR; break;
		case S_EXP: state = digit ? S_EXP : S_ERR; break;
		case S_ERR: return 0;
		}
	}
	return state == S_INT || state == S_FRAC || state == S_EXP;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	uint32_t x = 1;
	uint32_t counts[34] = {0};
	for (long i = 0; i < iters; i++) {
		uint32_t op = (x >> 7) % 34;
		counts[op]++;
		x = dense(op, x) + (uint32_t)i;
	}
	printf("dense: x=%08x\n", x);
	for (int i = 0; i < 34; i++)
		printf("%u%c", counts[i], i == 33 ? '\n' : ' ');

	const char *text = "int main(void) { return (a + b) * 42 - c / 7 % 3; }\n\tx[9] = {y};";
	int cls[10] = {0};
	for (const char *p = text; *p; p++)
		cls[classify((unsigned char)*p)]++;
	printf("classify:");
	for (int i = 0; i < 10; i++)
		printf(" %d", cls[i]);
	printf("\n");

	static const long keys[] = {0, 1, 5, -5, 100, 1000, 999, 10000, 100000, 123456789, 1L << 40, 42};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		printf("sparse(%ld)=%ld\n", keys[i], sparse(keys[i]));

	short src[100], dst[100];
	long dsum = 0;
	for (int i = 0; i < 100; i++)
		src[i] = (short)(i * 37 - 500);
	for (int len = 0; len <= 100; len++) {
		for (int i = 0; i < 100; i++)
			dst[i] = -1;
		duff_copy(dst, src, len);
		for (int i = 0; i < 100; i++)
			dsum = dsum * 7 + dst[i];
	}
	printf("duff checksum %ld\n", dsum);

	static const char *const nums[] = {"0", "-12", "3.25", "1e10", "-2.5E-3", "1.", ".5", "e5", "12a", "+7", "1e", "4.2e+", "9.75e+12", ""};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
		printf("is_number(\"%s\")=%d\n", nums[i], is_number(nums[i]));
	return 0;
}
