// Attack (denial of service): make opsub's personality issue every host
// system call it can be made to issue on the guest's behalf -- fstat,
// lseek, fcntl, the two ioctls, getrusage, clock_getres, nanosleep,
// clock_nanosleep, sched_yield, getrandom, kill(self, 0), futex wake, a
// failing read -- in case one of them is missing from opsub's own seccomp
// jail, which would kill opsub (SIGSYS) instead of answering the guest.
// Natively: all of them just work (DONE).
// Under opsub: each must return a result to the guest; opsub must survive.
// native: completes
// variants: fstat lseek fcntl ioctl_tcgets ioctl_winsz getrusage clock_getres nanosleep clock_nanosleep sched_yield getrandom kill0 futex_wake read_eof getppid time gettimeofday uname getcwd
#include "attack.h"
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#define FUTEX_WAKE 1

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	uint8_t buf[512];
	struct timespec ts = {0, 1000};
	static uint32_t fw;
	long r = 0;
	if (!strcmp(v, "fstat"))
		r = sc2(SYS_fstat, 1, buf);
	else if (!strcmp(v, "lseek"))
		r = sc3(SYS_lseek, 1, 0, SEEK_CUR);
	else if (!strcmp(v, "fcntl"))
		r = sc2(SYS_fcntl, 1, F_GETFL);
	else if (!strcmp(v, "ioctl_tcgets"))
		r = sc3(SYS_ioctl, 1, TCGETS, buf);
	else if (!strcmp(v, "ioctl_winsz"))
		r = sc3(SYS_ioctl, 1, TIOCGWINSZ, buf);
	else if (!strcmp(v, "getrusage"))
		r = sc2(SYS_getrusage, RUSAGE_SELF, buf);
	else if (!strcmp(v, "clock_getres"))
		r = sc2(SYS_clock_getres, CLOCK_MONOTONIC, buf);
	else if (!strcmp(v, "nanosleep"))
		r = sc2(SYS_nanosleep, &ts, 0);
	else if (!strcmp(v, "clock_nanosleep"))
		r = sc4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, 0);
	else if (!strcmp(v, "sched_yield"))
		r = sc0(SYS_sched_yield);
	else if (!strcmp(v, "getrandom"))
		r = sc3(SYS_getrandom, buf, 16, 0);
	else if (!strcmp(v, "kill0"))
		r = sc2(SYS_kill, sc0(SYS_getpid), 0);
	else if (!strcmp(v, "futex_wake"))
		r = sc3(SYS_futex, &fw, FUTEX_WAKE, 1);
	else if (!strcmp(v, "read_eof"))
		r = sc3(SYS_read, 0, buf, sizeof(buf));
	else if (!strcmp(v, "getppid"))
		r = sc0(SYS_getppid);
	else if (!strcmp(v, "time"))
		r = sc1(SYS_time, 0);
	else if (!strcmp(v, "gettimeofday"))
		r = sc2(SYS_gettimeofday, buf, 0);
	else if (!strcmp(v, "uname"))
		r = sc1(SYS_uname, buf);
	else
		r = sc2(SYS_getcwd, buf, sizeof(buf));
	printf("%s returned %ld\nDONE\n", v, r);
	return 0;
}
