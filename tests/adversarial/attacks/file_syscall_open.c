// Attack: create a host file with a plain `syscall` instruction: open(O_CREAT),
// creat, openat(O_CREAT), openat2, mknodat.
// Natively: the file argv[1] is created (proof that the call sequence works).
// Under opsub: every path call returns an error (-EACCES/-ENOSYS), no file.
// variants: open creat openat openat2 mknodat
#include "attack.h"
#include <sys/stat.h>

int main(int argc, char **argv)
{
	const char *path = argv[1], *v = variant(argc, argv);
	long r = -1;
	if (!strcmp(v, "open"))
		r = sc3(SYS_open, path, O_CREAT | O_WRONLY, 0644);
	else if (!strcmp(v, "creat"))
		r = sc2(SYS_creat, path, 0644);
	else if (!strcmp(v, "openat"))
		r = sc4(SYS_openat, AT_FDCWD, path, O_CREAT | O_WRONLY, 0644);
	else if (!strcmp(v, "openat2")) {
		struct { uint64_t flags, mode, resolve; } how = {O_CREAT | O_WRONLY, 0644, 0};
		r = sc4(437, AT_FDCWD, path, &how, sizeof(how));
	} else if (!strcmp(v, "mknodat"))
		r = sc4(SYS_mknodat, AT_FDCWD, path, S_IFREG | 0644, 0);
	if (r >= 0)
		escaped("%s(%s) returned %ld", v, path, r);
	else
		note("%s returned %ld", v, r);
	return 0;
}
