/* Wait group operations a goroutine completes without a runtime call. */
#ifndef SPINDLE_WG_NATIVE_H
#define SPINDLE_WG_NATIVE_H

#include "handle_mirror.h"

/* sp_wg_add: 1 when done here, with the call's result in *result; 0 when the
   runtime must serve it (a stale handle, or waiters to wake), unchanged. */
SP_HIDDEN int sp_wg_fast_add(uint64_t handle, int delta, int *result);
/* sp_wg_wait: 1 when the counter is zero (nothing to wait for); 0 when the
   runtime must serve it. */
SP_HIDDEN int sp_wg_fast_wait(uint64_t handle);

#endif
