/*
 * The ELF checker on good and hostile images: it refuses what the loader
 * must not load, with the reason a user needs, finds a dynamically linked
 * program's interpreter, and never reads outside the image (ASan).
 */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox/loader.h"

#define MEM (256ull << 20)

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	uint8_t code[64];
};

static void good(struct image *im)
{
	memset(im, 0, sizeof(*im));
	memcpy(im->eh.e_ident, ELFMAG, SELFMAG);
	im->eh.e_ident[EI_CLASS] = ELFCLASS64;
	im->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh.e_type = ET_EXEC;
	im->eh.e_machine = EM_X86_64;
	im->eh.e_entry = 0x400000 + offsetof(struct image, code);
	im->eh.e_phoff = offsetof(struct image, ph);
	im->eh.e_phentsize = sizeof(Elf64_Phdr);
	im->eh.e_phnum = 1;
	im->ph[0] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_vaddr = 0x400000,
	                         .p_filesz = sizeof(*im), .p_memsz = sizeof(*im)};
}

static void expect(const void *img, size_t len, const char *reason)
{
	struct load_plan plan;
	char err[256] = "";
	int rc = elf_check(img, len, MEM, &plan, err, sizeof(err));
	if (reason && (rc == 0 || !strstr(err, reason)))
		fail_msg("wanted '%s', got rc %d '%s'", reason, rc, err);
	if (!reason && rc != 0)
		fail_msg("refused a good image: %s", err);
}

static void test_good(void **state)
{
	(void)state;
	struct image im;
	good(&im);
	expect(&im, sizeof(im), NULL);
	im.eh.e_type = ET_DYN;             /* static-pie: loaded at the PIE base */
	im.ph[0].p_vaddr = 0;
	struct load_plan plan;
	char err[128];
	assert_int_equal(elf_check((uint8_t *)&im, sizeof(im), MEM, &plan, err, sizeof(err)), 0);
	assert_int_equal(plan.seg[0].vaddr, LOADER_PIE_BASE);
	assert_true(plan.pie);
	assert_int_equal(plan.interp_len, 0);
}

/* A dynamically linked program: the interpreter's path is found, and
 * refused unless it is one string inside the image. */
static void test_interp(void **state)
{
	(void)state;
	struct image im;
	static const char path[] = "/lib64/ld-linux-x86-64.so.2";
	good(&im);
	im.eh.e_phnum = 2;
	memcpy(im.code, path, sizeof(path));
	im.ph[1] = (Elf64_Phdr){.p_type = PT_INTERP, .p_offset = offsetof(struct image, code), .p_filesz = sizeof(path)};
	struct load_plan plan;
	char err[128];
	assert_int_equal(elf_check((uint8_t *)&im, sizeof(im), MEM, &plan, err, sizeof(err)), 0);
	assert_int_equal(plan.interp_len, sizeof(path));
	assert_string_equal((char *)&im + plan.interp_off, path);
	im.ph[1].p_filesz = sizeof(path) - 1;                 /* no NUL */
	expect(&im, sizeof(im), "interpreter");
	im.ph[1].p_filesz = 4;                                /* a NUL past the end, none at it */
	expect(&im, sizeof(im), "interpreter");
	im.ph[1].p_filesz = sizeof(path);
	im.code[3] = 0;                                       /* a NUL inside */
	expect(&im, sizeof(im), "interpreter");
	memcpy(im.code, path, sizeof(path));
	im.ph[1].p_offset = sizeof(im) - 2;                   /* runs off the image */
	expect(&im, sizeof(im), "interpreter");
	im.ph[1].p_offset = offsetof(struct image, code);
	im.ph[1].p_filesz = LOADER_INTERP_MAX + 1;            /* too long */
	expect(&im, sizeof(im), "interpreter");
}

static void test_refused(void **state)
{
	(void)state;
	struct image im;
	expect("hello", 5, "not an ELF");
	good(&im); im.eh.e_ident[EI_CLASS] = ELFCLASS32; expect(&im, sizeof(im), "64-bit");
	good(&im); im.eh.e_machine = EM_AARCH64; expect(&im, sizeof(im), "architecture");
	good(&im); im.eh.e_type = ET_REL; expect(&im, sizeof(im), "not an executable");
	good(&im); expect(&im, 40, "truncated");
	good(&im); im.eh.e_phnum = 500; expect(&im, sizeof(im), "truncated");
	good(&im); im.ph[0].p_filesz = 1u << 20; expect(&im, sizeof(im), "past the end");
	good(&im); im.ph[0].p_offset = ~0ull - 4; expect(&im, sizeof(im), "past the end");
	good(&im); im.ph[0].p_vaddr = 0x7f0000000000ull; expect(&im, sizeof(im), "impossible");
	good(&im); im.ph[0].p_vaddr = 0xfff00000; expect(&im, sizeof(im), "outside guest memory");
	good(&im); im.ph[0].p_vaddr = 0x1000; expect(&im, sizeof(im), "outside guest memory");
	good(&im); im.ph[0].p_memsz = 10; expect(&im, sizeof(im), "impossible");
	good(&im); im.ph[0].p_type = PT_NOTE; expect(&im, sizeof(im), "no loadable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_interp),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
