/* Checking the keys of a JSON object (configs, control requests). */
#ifndef OPSUB_UTIL_JSON_KEYS_H
#define OPSUB_UTIL_JSON_KEYS_H

#include <jansson.h>

/* The first key of obj that is not in `known` (NULL-ended), or NULL when
 * every key is known. */
const char *json_unknown_key(json_t *obj, const char *const *known);

#endif
