// Attack: create a host file through the socket layer: socket(AF_UNIX) and
// bind() to the path argv[1], which makes a socket inode in the host file
// system (also shows that the guest reaches the network stack at all).
// Natively: bind creates argv[1].
// Under opsub: socket() returns -ENOSYS.
#include "attack.h"
#include <sys/socket.h>
#include <sys/un.h>

int main(int argc, char **argv)
{
	(void)argc;
	long s = sc3(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	note("socket returned %ld", s);
	if (s < 0)
		return 0;
	struct sockaddr_un a;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	strncpy(a.sun_path, argv[1], sizeof(a.sun_path) - 1);
	long r = sc3(SYS_bind, s, &a, sizeof(a));
	note("bind returned %ld", r);
	if (r == 0)
		escaped("bound a unix socket at %s", argv[1]);
	return 0;
}
