/* The goroutine-facing channel, select, timer and mutex calls: argument checks
   that need no runtime, then a runtime call the managed scheduler serves (where
   the channel lives, so native goroutines, managed ones and threads share it). */
#include "runtime_call.h"
#include "chan_native.h"


/* A call that makes an object and returns its handle through out. */
static int make(int32_t op, uint64_t *out, uint64_t a0, uint64_t a1)
{
    if (sp_current_goroutine() == NULL)
        return SP_ENOTGOROUTINE;
    if (out == NULL)
        return SP_EINVAL;
    int64_t handle = 0;
    int err = sp_post(op, a0, a1, 0, &handle);
    *out = err == SP_OK ? (uint64_t)handle : 0;
    return err;
}

int sp_chan_make(sp_chan *out, size_t elem_size, size_t capacity)
{
    return make(SP_OP_CHAN_MAKE, out, (uint64_t)elem_size, (uint64_t)capacity);
}

int sp_chan_send(sp_chan ch, const void *elem)
{
    int result;
    if (sp_chan_fast_send(ch, elem, &result)) /* no runtime call needed */
        return result;
    return sp_post(SP_OP_CHAN_SEND, ch, (uint64_t)(uintptr_t)elem, 0, NULL);
}

int sp_chan_recv(sp_chan ch, void *elem, bool *ok)
{
    int result;
    bool received_fast = false;
    if (sp_chan_fast_recv(ch, elem, &received_fast, &result)) {
        if (ok != NULL)
            *ok = result == SP_OK && received_fast;
        return result;
    }
    int64_t received = 0;
    int err = sp_post(SP_OP_CHAN_RECV, ch, (uint64_t)(uintptr_t)elem, 0, &received);
    if (ok != NULL)
        *ok = err == SP_OK && received != 0;
    return err;
}

int sp_chan_close(sp_chan ch) { return sp_post(SP_OP_CHAN_CLOSE, ch, 0, 0, NULL); }
int sp_chan_release(sp_chan ch) { return sp_post(SP_OP_CHAN_RELEASE, ch, 0, 0, NULL); }

/* len and cap answer through the value: an int or an error code. */
static int query(int32_t op, sp_chan ch)
{
    int64_t value = 0;
    int err = sp_post(op, ch, 0, 0, &value);
    return err == SP_OK ? (int)value : err;
}

int sp_chan_len(sp_chan ch) { return query(SP_OP_CHAN_LEN, ch); }
int sp_chan_cap(sp_chan ch) { return query(SP_OP_CHAN_CAP, ch); }

int sp_select(sp_case *cases, int ncases, bool has_default)
{
    int64_t chosen = 0;
    int err = sp_post(SP_OP_SELECT, (uint64_t)(uintptr_t)cases, (uint64_t)(int64_t)ncases,
                      has_default ? 1 : 0, &chosen);
    return err == SP_OK ? (int)chosen : err;
}

int sp_after(sp_chan *out, int64_t nanoseconds)
{
    return make(SP_OP_AFTER, out, (uint64_t)nanoseconds, 0);
}

int sp_ticker_make(sp_chan *out, int64_t period_ns)
{
    return make(SP_OP_TICKER_MAKE, out, (uint64_t)period_ns, 0);
}

int sp_ticker_stop(sp_chan ticker) { return sp_post(SP_OP_TICKER_STOP, ticker, 0, 0, NULL); }

int sp_mutex_make(sp_mutex *out) { return make(SP_OP_MUTEX_MAKE, out, 0, 0); }
int sp_mutex_lock(sp_mutex m) { return sp_post(SP_OP_MUTEX_LOCK, m, 0, 0, NULL); }
int sp_mutex_unlock(sp_mutex m) { return sp_post(SP_OP_MUTEX_UNLOCK, m, 0, 0, NULL); }
int sp_mutex_release(sp_mutex m) { return sp_post(SP_OP_MUTEX_RELEASE, m, 0, 0, NULL); }
