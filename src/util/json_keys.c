#include "util/json_keys.h"

#include <stdbool.h>
#include <string.h>

const char *json_unknown_key(json_t *obj, const char *const *known)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			ok |= !strcmp(key, *k);
		if (!ok)
			return key;
	}
	return NULL;
}
