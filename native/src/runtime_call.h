/* Posting a goroutine runtime call: shared by the files of goroutine-facing calls. */
#ifndef SPINDLE_RUNTIME_CALL_H
#define SPINDLE_RUNTIME_CALL_H

#include "coro_internal.h"

/* The running goroutine, or NULL when the caller is not one. */
static inline sp_coro *sp_current_goroutine(void)
{
    sp_coro *co = sp_current();
    return co != NULL && (co->flags & SP_CORO_GOROUTINE) ? co : NULL;
}

/* Posts op with three operands and parks until served; the server's value is
   stored in *value when value is not NULL. SP_ENOTGOROUTINE outside a goroutine. */
int sp_post(int32_t op, uint64_t a0, uint64_t a1, uint64_t a2, int64_t *value);

#endif
