// Exercises string processing: a backtracking regex matcher (. * + ? ^ $ [] [^] \d \w \s), a C-like tokenizer and a recursive-descent expression evaluator.
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- regex ---- */
static int match_here(const char *re, const char *text, const char **end);

/* length of one atom at re, and whether character c matches it */
static int atom_len(const char *re)
{
	if (re[0] == '\\' && re[1])
		return 2;
	if (re[0] == '[') {
		const char *p = re + 1;
		if (*p == '^')
			p++;
		if (*p == ']')
			p++;
		while (*p && *p != ']')
			p++;
		return (int)(p - re) + (*p == ']');
	}
	return 1;
}
static int atom_match(const char *re, char c)
{
	if (c == 0)
		return 0;
	if (re[0] == '.')
		return 1;
	if (re[0] == '\\') {
		switch (re[1]) {
		case 'd': return isdigit((unsigned char)c) != 0;
		case 'w': return isalnum((unsigned char)c) || c == '_';
		case 's': return isspace((unsigned char)c) != 0;
		default: return c == re[1];
		}
	}
	if (re[0] == '[') {
		const char *p = re + 1;
		int neg = 0, found = 0;
		if (*p == '^') {
			neg = 1;
			p++;
		}
		const char *start = p;
		while (*p && (*p != ']' || p == start)) {
			if (p[1] == '-' && p[2] && p[2] != ']') {
				if (c >= p[0] && c <= p[2])
					found = 1;
				p += 3;
			} else {
				if (c == *p)
					found = 1;
				p++;
			}
		}
		return found != neg;
	}
	return re[0] == c;
}
static int match_repeat(const char *atom, int alen, int min, int max, const char *rest, const char *text, const char **end)
{
	int n = 0;
	while ((max < 0 || n < max) && atom_match(atom, text[n]))
		n++;
	for (; n >= min; n--) /* greedy: longest first */
		if (match_here(rest, text + n, end))
			return 1;
	(void)alen;
	return 0;
}
static int match_here(const char *re, const char *text, const char **end)
{
	if (re[0] == 0) {
		*end = text;
		return 1;
	}
	if (re[0] == '$' && re[1] == 0) {
		*end = text;
		return *text == 0;
	}
	int alen = atom_len(re);
	char q = re[alen];
	if (q == '*')
		return match_repeat(re, alen, 0, -1, re + alen + 1, text, end);
	if (q == '+')
		return match_repeat(re, alen, 1, -1, re + alen + 1, text, end);
	if (q == '?')
		return match_repeat(re, alen, 0, 1, re + alen + 1, text, end);
	if (atom_match(re, *text))
		return match_here(re + alen, text + 1, end);
	return 0;
}
/* returns start offset or -1; *len gets match length */
static int re_search(const char *re, const char *text, int *len)
{
	const char *end;
	if (re[0] == '^') {
		if (match_here(re + 1, text, &end)) {
			*len = (int)(end - text);
			return 0;
		}
		return -1;
	}
	const char *t = text;
	do {
		if (match_here(re, t, &end)) {
			*len = (int)(end - t);
			return (int)(t - text);
		}
	} while (*t++);
	return -1;
}

/* ---- tokenizer ---- */
enum tok { T_IDENT, T_NUM, T_STR, T_CHAR, T_OP, T_PUNCT, T_EOF, T_ERR };
static const char *const tokname[] = {"ident", "num", "str", "char", "op", "punct", "eof", "err"};
static enum tok next_token(const char **pp, char *out, size_t cap)
{
	const char *p = *pp;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			p = e ? e + 2 : p + strlen(p);
		} else
			break;
	}
	const char *s = p;
	enum tok t;
	if (!*p) {
		t = T_EOF;
	} else if (isalpha((unsigned char)*p) || *p == '_') {
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		t = T_IDENT;
	} else if (isdigit((unsigned char)*p)) {
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
			p += 2;
			while (isxdigit((unsigned char)*p))
				p++;
		} else {
			while (isdigit((unsigned char)*p) || *p == '.')
				p++;
			if (*p == 'e' || *p == 'E') {
				p++;
				if (*p == '+' || *p == '-')
					p++;
				while (isdigit((unsigned char)*p))
					p++;
			}
		}
		while (*p == 'u' || *p == 'U' || *p == 'l' || *p == 'L' || *p == 'f')
			p++;
		t = T_NUM;
	} else if (*p == '"' || *p == '\'') {
		char qc = *p++;
		while (*p && *p != qc) {
			if (*p == '\\' && p[1])
				p++;
			p++;
		}
		if (*p == qc) {
			p++;
			t = qc == '"' ? T_STR : T_CHAR;
		} else
			t = T_ERR;
	} else {
		static const char *const ops3[] = {"<<=", ">>=", "..."};
		static const char *const ops2[] = {"==", "!=", "<=", ">=", "&&", "||", "++", "--", "->", "+=", "-=", "*=", "/=", "<<", ">>", "&=", "|=", "^="};
		t = T_OP;
		int done = 0;
		for (size_t i = 0; i < 3 && !done; i++)
			if (!strncmp(p, ops3[i], 3)) { p += 3; done = 1; }
		for (size_t i = 0; i < sizeof ops2 / sizeof ops2[0] && !done; i++)
			if (!strncmp(p, ops2[i], 2)) { p += 2; done = 1; }
		if (!done) {
			if (strchr("(){}[];,", *p))
				t = T_PUNCT;
			else if (!strchr("+-*/%<>=!&|^~?:.", *p))
				t = T_ERR;
			p++;
		}
	}
	size_t n = (size_t)(p - s) < cap - 1 ? (size_t)(p - s) : cap - 1;
	memcpy(out, s, n);
	out[n] = 0;
	*pp = p;
	return t;
}

/* ---- expression evaluator: + - * / % ^(power, right assoc) unary -, parentheses ---- */
static const char *ep;
static int eerr;
static long expr(void);
static void skip(void) { while (*ep == ' ') ep++; }
static long primary(void)
{
	skip();
	if (*ep == '(') {
		ep++;
		long v = expr();
		skip();
		if (*ep == ')') ep++; else eerr = 1;
		return v;
	}
	if (*ep == '-') {
		ep++;
		return -primary();
	}
	if (!isdigit((unsigned char)*ep)) {
		eerr = 1;
		return 0;
	}
	long v = 0;
	while (isdigit((unsigned char)*ep))
		v = v * 10 + (*ep++ - '0');
	return v;
}
static long power(void)
{
	long b = primary();
	skip();
	if (*ep == '^') {
		ep++;
		long e = power(), r = 1;
		while (e-- > 0)
			r *= b;
		return r;
	}
	return b;
}
static long term(void)
{
	long v = power();
	for (;;) {
		skip();
		char op = *ep;
		if (op != '*' && op != '/' && op != '%')
			return v;
		ep++;
		long r = power();
		if ((op == '/' || op == '%') && r == 0) {
			eerr = 2;
			return 0;
		}
		v = op == '*' ? v * r : op == '/' ? v / r : v % r;
	}
}
static long expr(void)
{
	long v = term();
	for (;;) {
		skip();
		if (*ep == '+') { ep++; v += term(); }
		else if (*ep == '-') { ep++; v -= term(); }
		else return v;
	}
}

int main(void)
{
	static const char *const res[] = {"a.c", "^ab*c$", "colou?r", "\\d+", "[a-z]+@[a-z]+\\.com", "^\\s*\\w+", "x[^aeiou]+y",
	                                  "(", "a+b+c+", "^$", ".*end$", "[0-9a-f]+h", "\\.", "b*", "z?z?z?zzz"};
	static const char *const texts[] = {"abc", "ac", "aXc", "color", "colour", "colouur", "room 101 and 2024", "mail me@host.com now",
	                                    "   ident_1 rest", "xbcdy xay", "(paren)", "aaabbbccc", "", "the end", "0ffh", "a.b", "zzz"};
	unsigned long sig = 0;
	for (size_t r = 0; r < sizeof res / sizeof res[0]; r++) {
		printf("/%s/:", res[r]);
		for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
			int len = 0, at = re_search(res[r], texts[t], &len);
			if (at >= 0)
				printf(" %zu@%d+%d", t, at, len);
			sig = sig * 31 + (unsigned long)(at + 2) * 7 + (unsigned long)len;
		}
		printf("\n");
	}
	printf("regex signature %lu\n", sig);

	const char *src = "int main(int argc, char **argv) { /* comment */ unsigned x = 0x1fU + 3.5e-2f; // line\n"
	                  "  if (x >= 10 && argv[1] != 0) x <<= 2; else x--; s = \"str\\\"ing\"; c = '\\n'; p->q ... ; @ }";
	char tok[64];
	int counts[8] = {0};
	for (;;) {
		enum tok t = next_token(&src, tok, sizeof tok);
		counts[t]++;
		if (t == T_EOF)
			break;
		printf("%s:%s ", tokname[t], tok);
	}
	printf("\ncounts:");
	for (int i = 0; i < 8; i++)
		printf(" %s=%d", tokname[i], counts[i]);
	printf("\n");

	static const char *const exprs[] = {"1 + 2 * 3", "(1 + 2) * 3", "2 ^ 3 ^ 2", "-(4 - 10) % 4", "100 / 7 / 2", "2 * (3 + (4 - 1)) ^ 2",
	                                    "7 / 0", "((((((1))))))+-1", "3 +", "123456789 * 1000 - 5"};
	for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
		ep = exprs[i];
		eerr = 0;
		long v = expr();
		skip();
		if (*ep)
			eerr = eerr ? eerr : 3;
		if (eerr)
			printf("%-24s => error %d\n", exprs[i], eerr);
		else
			printf("%-24s => %ld\n", exprs[i], v);
	}
	return 0;
}
