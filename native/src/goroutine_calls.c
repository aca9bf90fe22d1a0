/* The goroutine-facing runtime calls: each fills a request record on the
   goroutine's stack and parks until the scheduler has served it. */
#include "runtime_call.h"
#include "wg_native.h"

#include <string.h>

int sp_post(int32_t op, uint64_t a0, uint64_t a1, uint64_t a2, int64_t *value)
{
    if (sp_current_goroutine() == NULL)
        return SP_ENOTGOROUTINE;
    sp_request req;
    memset(&req, 0, sizeof req);
    req.op = op;
    req.args[0] = a0;
    req.args[1] = a1;
    req.args[2] = a2;
    int err = sp_coro_request(&req);
    if (value != NULL)
        *value = req.value;
    return err;
}

static int post(int32_t op, uint64_t a0, uint64_t a1, int64_t *value)
{
    return sp_post(op, a0, a1, 0, value);
}

int sp_go(sp_fn fn, void *arg)
{
    if (sp_current_goroutine() == NULL)
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
int sp_sleep(int64_t nanoseconds) { return post(SP_OP_SLEEP, (uint64_t)nanoseconds, 0, NULL); }
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

int sp_wg_make(sp_wg *out)
{
    if (sp_current_goroutine() == NULL)
        return SP_ENOTGOROUTINE;
    if (out == NULL)
        return SP_EINVAL;
    int64_t handle = 0;
    int err = post(SP_OP_WG_MAKE, 0, 0, &handle);
    *out = err == SP_OK ? (sp_wg)handle : 0;
    return err;
}

int sp_wg_add(sp_wg wg, int delta)
{
    if (sp_current_goroutine() == NULL)
        return SP_ENOTGOROUTINE;
    int answer;
    if (sp_wg_fast_add(wg, delta, &answer))
        return answer;
    return post(SP_OP_WG_ADD, wg, (uint64_t)(int64_t)delta, NULL);
}

int sp_wg_done(sp_wg wg) { return sp_wg_add(wg, -1); }

int sp_wg_wait(sp_wg wg)
{
    if (sp_current_goroutine() == NULL)
        return SP_ENOTGOROUTINE;
    if (sp_wg_fast_wait(wg))
        return SP_OK;
    return post(SP_OP_WG_WAIT, wg, 0, NULL);
}
int sp_wg_release(sp_wg wg) { return post(SP_OP_WG_RELEASE, wg, 0, NULL); }
