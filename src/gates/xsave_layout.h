/*
 * The standard (non-compacted) XSAVE format of the guest CPU model's state
 * components (x87, SSE, AVX), as the Intel SDM lays it out: the gates fill
 * it (ctx.c) and the migration stream carries it (monitor/guest_state.h).
 */
#ifndef OPSUB_GATES_XSAVE_LAYOUT_H
#define OPSUB_GATES_XSAVE_LAYOUT_H

#define XSAVE_FCW       0      /* x87 control word */
#define XSAVE_MXCSR     24
#define XSAVE_XMM       160    /* xmm0-15, 16 bytes each */
#define XSAVE_HEADER    512    /* XSTATE_BV, XCOMP_BV, zeros: 64 bytes */
#define XSAVE_YMM_HI    576    /* upper halves of ymm0-15 (host_check verifies
                                * the offset on every host that runs guests) */
#define XSAVE_SIZE_AVX  832    /* the image up to the end of the AVX component */

#endif
