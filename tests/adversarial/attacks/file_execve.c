// Attack: run a host program: execve / execveat of /bin/sh -c 'touch FILE'.
// Natively: the shell creates argv[1].
// Under opsub: no process creation: -ENOSYS, no file.
// variants: execve execveat
#include "attack.h"

int main(int argc, char **argv)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "touch '%s'", argv[1]);
	char *args[] = {"/bin/sh", "-c", cmd, 0};
	char *env[] = {"PATH=/usr/bin:/bin", 0};
	long r;
	if (!strcmp(variant(argc, argv), "execveat"))
		r = sc5(322, AT_FDCWD, "/bin/sh", args, env, 0);
	else
		r = sc3(SYS_execve, "/bin/sh", args, env);
	note("%s returned %ld", variant(argc, argv), r);
	return 0;
}
