/*
 * ctl_capture.h: the words of `opsub ctl capture` made into a request:
 *
 *   capture GUEST FILE [--seconds N]   {"cmd":"capture","guest":GUEST,
 *                                       "file":ABSOLUTE-FILE[,"seconds":N]}
 *   capture GUEST --stop               {"cmd":"capture","guest":GUEST,"stop":true}
 *
 * A relative FILE is made absolute against the client's working directory
 * (the daemon's is another).
 */
#ifndef OPSUB_CLI_CTL_CAPTURE_H
#define OPSUB_CLI_CTL_CAPTURE_H

#include <jansson.h>
#include <stddef.h>

/* Fills request r (which has "cmd") from argv[1..argc); 0, or -1 with a
 * one-line reason. */
int ctl_capture_request(json_t *r, int argc, char **argv, char *err, size_t errlen);

#endif
