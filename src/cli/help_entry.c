/*
 * The help of one entry of a command's help text, e.g. `opsub ctl set
 * --help`: the entry's own lines of the command's list, so that the two
 * can never disagree.  An entry is a line indented by two spaces, "  WORD
 * ARGS...   MEANING", and the more deeply indented lines under it; a word
 * may have several entries (several forms of one request).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int help_entry(const char *help, const char *section, const char *word, const char *prefix)
{
	const char *line = strstr(help, section);
	size_t n = strlen(word);
	bool found = false, in_entry = false;
	/* the lines after the section title that start indented */
	for (line = line ? strchr(line, '\n') : NULL; line && !strncmp(line, "\n  ", 3); line = strchr(line + 1, '\n')) {
		const char *text = line + 1 + strspn(line + 1, " "), *end = strchrnul(text, '\n');
		if (text == line + 3) {   /* a new entry */
			in_entry = !strncmp(text, word, n) && (text[n] == ' ' || text + n == end);
			if (!in_entry)
				continue;
			/* the synopsis ends where a run of two or more spaces begins */
			const char *gap = strstr(text, "  ");
			if (!gap || gap > end)
				gap = end;
			printf("%susage: %s %.*s\n", found ? "\n" : "", prefix, (int)(gap - text), text);
			found = true;
			text = gap + strspn(gap, " ");
		}
		if (in_entry && text < end)
			printf("  %.*s\n", (int)(end - text), text);
	}
	return found ? 0 : -1;
}
