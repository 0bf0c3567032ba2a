/* host_info.c: the CPU model, kernel release and load of this host. */
#include "util/host_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

/* The model name without the padding some hypervisors put around it, and
 * without quotes or backslashes, so it can go into JSON as it is. */
static void read_cpu_model(char *out, size_t size)
{
	snprintf(out, size, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10))
			continue;
		const char *v = strchr(line, ':');
		if (!v)
			break;
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		size_t n = 0;
		for (; *v && *v != '\n' && n + 1 < size; v++)
			if (*v != '"' && *v != '\\' && (*v != ' ' || (n && out[n - 1] != ' ')))
				out[n++] = *v;
		while (n && out[n - 1] == ' ')
			n--;
		out[n] = 0;
		break;
	}
	fclose(f);
}

void host_info_read(struct host_info *h)
{
	read_cpu_model(h->cpu, sizeof(h->cpu));
	struct utsname u;
	snprintf(h->kernel, sizeof(h->kernel), "%s", uname(&u) ? "unknown" : u.release);
	h->load1 = 0;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &h->load1) != 1)
			h->load1 = 0;
		fclose(f);
	}
}
