/*
 * The seccomp jail of a guest process: once the sandbox is built and the
 * program loaded, the process may make only the system calls the monitor,
 * the gates and the network driver need (the list is in jail.c, with the
 * reason for each).  No file may be opened, no process created, no socket
 * made, no memory made executable; anything else kills the process, so a
 * bug in opsub's trusted code that a guest might steer stays in this box.
 */
#ifndef OPSUB_SANDBOX_JAIL_H
#define OPSUB_SANDBOX_JAIL_H

#include <stddef.h>

/* Installs the filter for this process (and its threads).  0, or -1 with a
 * one-line reason. */
int jail_enter(char *err, size_t errlen);

#endif
