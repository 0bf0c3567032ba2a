// Attack: read a host file into the guest by naming it as the program's
// interpreter (PT_INTERP), which the loader opens before any guest code
// runs.  The attack names its own host path, outside the guest's file
// system.
// Natively: the kernel maps the file and starts it as the interpreter,
// which prints ESCAPED.
// Under opsub: the interpreter is looked up only in the guest's file system
// (memfs and volumes, sandbox/loader.h), so opsub refuses to start it.
// build: interp-self
// opsub: refused its interpreter .* is not in the guest's file system
#include "attack.h"

int main(void)
{
	escaped("started through PT_INTERP naming a host file");
	return 0;
}
