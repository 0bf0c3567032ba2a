/* opsub ctl migrate, snapshot, restore: the requests from the words (ctl_migrate.h). */
#include "cli/ctl_migrate.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool ctl_is_migration(const char *cmd)
{
	return !strcmp(cmd, "migrate") || !strcmp(cmd, "snapshot") || !strcmp(cmd, "restore");
}

/* json_string of a word, which must be UTF-8 to go in a request. */
static int set_word(json_t *r, const char *key, const char *word, char *err, size_t errlen)
{
	json_t *v = json_string(word);
	if (!v) {
		snprintf(err, errlen, "'%s' is not UTF-8 text", word);
		return -1;
	}
	json_object_set_new(r, key, v);
	return 0;
}

/* FILE as an absolute path, against our working directory. */
static int set_file(json_t *r, const char *cmd, const char *file, char *err, size_t errlen)
{
	char path[PATH_MAX];
	if (file[0] != '/') {
		if (!getcwd(path, sizeof(path)) || strlen(path) + 1 + strlen(file) >= sizeof(path)) {
			snprintf(err, errlen, "%s: cannot make %s an absolute path; give one", cmd, file);
			return -1;
		}
		strcat(path, "/");
		strcat(path, file);
		file = path;
	}
	return set_word(r, "file", file, err, errlen);
}

int ctl_migrate_request(json_t *r, int argc, char **argv, char *err, size_t errlen)
{
	const char *cmd = argv[0];
	if (!strcmp(cmd, "migrate")) {
		if (argc != 3) {
			snprintf(err, errlen, "migrate takes NAME HOST:PORT (the destination daemon's migration \"listen\")");
			return -1;
		}
		return set_word(r, "guest", argv[1], err, errlen) || set_word(r, "to", argv[2], err, errlen) ? -1 : 0;
	}
	if (!strcmp(cmd, "snapshot")) {
		bool stop = argc == 4 && !strcmp(argv[3], "--stop");
		if (argc != 3 && !stop) {
			snprintf(err, errlen, "snapshot takes NAME FILE [--stop]");
			return -1;
		}
		if (set_word(r, "guest", argv[1], err, errlen) || set_file(r, cmd, argv[2], err, errlen))
			return -1;
		if (stop)
			json_object_set_new(r, "stop", json_true());
		return 0;
	}
	if (argc != 2 && argc != 3) {
		snprintf(err, errlen, "restore takes FILE [NAME]");
		return -1;
	}
	if (set_file(r, cmd, argv[1], err, errlen))
		return -1;
	return argc == 3 ? set_word(r, "name", argv[2], err, errlen) : 0;
}
