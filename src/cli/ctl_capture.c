/* opsub ctl capture: the request from the words (ctl_capture.h). */
#include "cli/ctl_capture.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USAGE "capture takes GUEST FILE [--seconds N], or GUEST --stop"

int ctl_capture_request(json_t *r, int argc, char **argv, char *err, size_t errlen)
{
	if (argc < 3) {
		snprintf(err, errlen, USAGE);
		return -1;
	}
	json_object_set_new(r, "guest", json_string(argv[1]));
	if (!strcmp(argv[2], "--stop")) {
		if (argc != 3) {
			snprintf(err, errlen, USAGE);
			return -1;
		}
		json_object_set_new(r, "stop", json_true());
		return 0;
	}
	const char *file = argv[2];
	char path[PATH_MAX];
	if (file[0] != '/') {
		if (!getcwd(path, sizeof(path)) || strlen(path) + 1 + strlen(file) >= sizeof(path)) {
			snprintf(err, errlen, "capture: cannot make %s an absolute path; give one", file);
			return -1;
		}
		strcat(path, "/");
		strcat(path, file);
		file = path;
	}
	json_object_set_new(r, "file", json_string(file));
	if (argc == 3)
		return 0;
	char *end;
	double seconds = argc == 5 && !strcmp(argv[3], "--seconds") ? strtod(argv[4], &end) : 0;
	if (argc != 5 || strcmp(argv[3], "--seconds") || !argv[4][0] || *end || !(seconds > 0)) {
		snprintf(err, errlen, "%s (N: seconds, a number above 0)", USAGE);
		return -1;
	}
	json_object_set_new(r, "seconds", json_real(seconds));
	return 0;
}
