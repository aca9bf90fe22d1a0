/* The goroutine calls that involve the scheduler: spawn and yield (which
   the run loop serves itself when it can), blocking sections and managed
   callbacks (which the managed scheduler serves: a runtime call fills a
   request record on the goroutine's stack and parks until it is answered). */
#include "run_queue.h"

#include <string.h>

/* The running goroutine, or NULL when the caller is not one. */
static inline sp_coro *current_goroutine(void)
{
    sp_coro *co = sp_current();
    return co != NULL && (co->flags & SP_CORO_GOROUTINE) ? co : NULL;
}

/* Posts op and parks until the scheduler served it; the server's value goes
   to *value when value is not NULL. SP_ENOTGOROUTINE outside a goroutine. */
static int post(int32_t op, uint64_t a0, uint64_t a1, int64_t *value)
{
    if (current_goroutine() == NULL)
        return SP_ENOTGOROUTINE;
    sp_request req;
    memset(&req, 0, sizeof req);
    req.op = op;
    req.args[0] = a0;
    req.args[1] = a1;
    int err = sp_coro_request(&req);
    if (value != NULL)
        *value = req.value;
    return err;
}

int sp_go(sp_fn fn, void *arg)
{
    if (current_goroutine() == NULL)
        return SP_ENOTGOROUTINE;
    if (fn == NULL)
        return SP_EINVAL;
    int answer;
    if (sp_run_spawn(fn, arg, &answer)) /* the run loop's own spawn, no runtime call */
        return answer;
    return post(SP_OP_GO, (uint64_t)(uintptr_t)fn, (uint64_t)(uintptr_t)arg, NULL);
}

int sp_gosched(void)
{
    int answer;
    if (sp_run_yield(&answer)) /* the run loop's own switch, no runtime call */
        return answer;
    return post(SP_OP_GOSCHED, 0, 0, NULL);
}
int sp_block_enter(void) { return post(SP_OP_BLOCK_ENTER, 0, 0, NULL); }
int sp_block_exit(void) { return post(SP_OP_BLOCK_EXIT, 0, 0, NULL); }

int sp_call(int32_t callback_id, void *arg, int64_t *result)
{
    int64_t value = 0;
    int err = post(SP_OP_CALL, (uint64_t)(uint32_t)callback_id, (uint64_t)(uintptr_t)arg, &value);
    if (err == SP_OK && result != NULL)
        *result = value;
    return err;
}
