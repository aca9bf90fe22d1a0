/* Standalone stackful coroutines: create, resume, yield, runtime calls. */
#include "coro_internal.h"
#include "sanitizer.h"
#include "segment.h"

#include <stdlib.h>
#include <string.h>

SP_THREAD_LOCAL sp_coro *sp_tls_current;
static SP_THREAD_LOCAL int tls_thread_ready;
#if defined(SPINDLE_VALGRIND)
/* Set at each thread's first resume, the same answer each time; threads may
   make their first resumes at once, so it is read and written as a relaxed
   atomic (a plain load and store on every CPU, no ordering needed). */
static int under_valgrind;
#endif

sp_coro *sp_coro_self(void) { return sp_tls_current; }

/* SP_OK for a live descriptor; SP_ESTALE for a destroyed one; SP_EINVAL otherwise. */
static int check_live(const sp_coro *co)
{
    if (co == NULL)
        return SP_EINVAL;
    if (co->magic == SP_CORO_LIVE)
        return SP_OK;
    return co->magic == SP_CORO_DEAD ? SP_ESTALE : SP_EINVAL;
}

/* Coroutine ids, process-unique, taken a block at a time per thread. */
enum { ID_BLOCK = 1024 };
static _Atomic uint64_t next_id_block = 1;
static SP_THREAD_LOCAL uint64_t tls_next_id, tls_id_end;

uint64_t sp_next_coro_id(void)
{
    if (tls_next_id == tls_id_end) {
        tls_next_id = __atomic_fetch_add(&next_id_block, ID_BLOCK, __ATOMIC_RELAXED);
        tls_id_end = tls_next_id + ID_BLOCK;
    }
    return tls_next_id++;
}

int sp_stack_segmented_available(void) { return SP_HAVE_SEGMENTS; }
int sp_is_split_stack(sp_fn fn) { return fn != NULL && sp_function_is_split((const void *)fn); }

/* Decides the stack kind for fn: segmented only for split-stack code. */
static int resolve_kind(int asked, sp_fn fn, int *kind)
{
    if (asked == SP_STACK_RESERVED) {
        *kind = SP_STACK_RESERVED;
        return SP_OK;
    }
    if (asked != SP_STACK_DEFAULT && asked != SP_STACK_SEGMENTED)
        return SP_EINVAL;
    int split = SP_HAVE_SEGMENTS && sp_function_is_split((const void *)fn);
    if (asked == SP_STACK_SEGMENTED && !SP_HAVE_SEGMENTS)
        return SP_ENOTSUP;
    if (asked == SP_STACK_SEGMENTED && !split)
        return SP_ENOTSPLIT;
    *kind = split ? SP_STACK_SEGMENTED : SP_STACK_RESERVED;
    return SP_OK;
}

static int check_options(const sp_coro_options *opts, sp_fn fn, int *kind, size_t *max_stack,
                         size_t *initial)
{
    *initial = 0;
    if (opts != NULL && (opts->flags & ~SP_CORO_GOROUTINE))
        return SP_EINVAL;
    int err = resolve_kind(opts != NULL ? opts->kind : SP_STACK_DEFAULT, fn, kind);
    if (err != SP_OK)
        return err;
    *max_stack = *kind == SP_STACK_SEGMENTED ? SP_DEFAULT_MAX_SEGMENTED : SP_DEFAULT_MAX_STACK;
    if (opts == NULL)
        return SP_OK;
    if (opts->max_stack != 0) {
        if (opts->max_stack < SP_MIN_MAX_STACK || opts->max_stack > SP_MAX_MAX_STACK)
            return SP_EINVAL;
        *max_stack = opts->max_stack;
    }
    if (opts->initial_stack > *max_stack)
        return SP_EINVAL;
    *initial = opts->initial_stack;
    return SP_OK;
}

int sp_coro_check(sp_fn fn, const sp_coro_options *opts, int *kind, size_t *max_stack)
{
    size_t initial;
    return fn == NULL ? SP_EINVAL : check_options(opts, fn, kind, max_stack, &initial);
}

int sp_coro_create(sp_coro **out, sp_fn fn, void *arg, const sp_coro_options *opts)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || fn == NULL)
        return SP_EINVAL;
    size_t max_stack, initial;
    int kind;
    int err = check_options(opts, fn, &kind, &max_stack, &initial);
    if (err != SP_OK)
        return err;
    return sp_coro_create_checked(out, fn, arg, kind, max_stack, initial, opts != NULL ? opts->flags : 0);
}

/* Makes co, whose stack is in place, a new coroutine that runs fn(arg) from
   the start: a new id and a first frame. */
static void start_descriptor(sp_coro *co, sp_fn fn, void *arg)
{
    co->state = SP_STATE_NEW;
    co->fn = fn;
    co->arg = arg;
    co->resumer = NULL;
    co->request = NULL;
    co->id = sp_next_coro_id();
    co->sp = sp_frame_init(co);
    SP_TSAN_FIBER_CREATE(co->tsan_fiber, co->id);
}

int sp_coro_create_checked(sp_coro **out, sp_fn fn, void *arg, int kind, size_t max_stack, size_t initial,
                           int32_t flags)
{
    sp_coro *co;
    (void)kind; /* always reserved where there are no segments */
#if SP_HAVE_SEGMENTS
    if (kind == SP_STACK_SEGMENTED) {
        co = sp_segment_take_first(max_stack);
    } else
#endif
    {
        co = sp_pool_take(max_stack, initial);
        if (co != NULL) {
            co->kind = SP_STACK_RESERVED;
            co->segments = NULL;
        }
    }
    if (co == NULL)
        return SP_ENOMEM;
    co->magic = SP_CORO_LIVE;
    co->flags = flags;
    start_descriptor(co, fn, arg);
    *out = co;
    return SP_OK;
}

int sp_coro_reuse(sp_coro *co, sp_fn fn, void *arg)
{
#if SP_HAVE_SEGMENTS
    if (co->magic != SP_CORO_LIVE || co->kind != SP_STACK_SEGMENTED || co->state != SP_STATE_DONE)
        return 0;
    sp_segment_reuse_first(co);
    /* What a finished coroutine may have left set, besides what
       start_descriptor sets; kind, flags and the segment fields stay. */
    co->resumer_sp = NULL;
    co->system_sp_slot = NULL;
    co->on_system_stack = 0;
#if defined(SPINDLE_ASAN)
    co->asan_fake_stack = NULL;
    co->asan_resumer_fake_stack = NULL;
    co->asan_resumer_bottom = NULL;
    co->asan_resumer_size = 0;
#endif
    SP_TSAN_FIBER_DESTROY(co->tsan_fiber); /* start_descriptor makes a fresh one */
    start_descriptor(co, fn, arg);
    return 1;
#else
    (void)co;
    (void)fn;
    (void)arg;
    return 0;
#endif
}

/*
 * The switch protocol. Each side hands the other its answer as the transfer
 * value: the resumer passes the result of a served runtime call (SP_OK for a
 * plain yield), the coroutine passes its new state (sp_coro_resume's return
 * value). Each side also sets the thread's current coroutine for the side
 * that runs next. So nothing is left to do after sp_switch returns, and
 * resume, yield and request end in a tail call: no wrapper frame stands
 * between the caller and the jump to the other stack, which keeps the
 * return predictor right (measured: 25 ns a switch with wrapper frames,
 * see the README for the figure without). ASan builds annotate both sides
 * of every switch and give that up. TSan builds name the fiber switched to
 * before each switch (SP_TSAN_SWITCH_TO); their instrumentation records the
 * function's exit after the call, so the switch is a call there too, and
 * that exit is recorded on the fiber that made the call, once it is back.
 */

#if defined(SPINDLE_ASAN)
#  define CORO_STACK_BOTTOM(co) ((const void *)(co)->stack.low)
#  define CORO_STACK_SIZE(co) ((co)->stack.usable)
#endif

static inline int switch_to_coroutine(sp_coro *co, int answer)
{
#if defined(SPINDLE_ASAN)
    SP_ASAN_START_SWITCH(&co->asan_resumer_fake_stack, CORO_STACK_BOTTOM(co), CORO_STACK_SIZE(co));
    int state = sp_switch(&co->resumer_sp, co->sp, answer);
    SP_ASAN_FINISH_SWITCH(co->asan_resumer_fake_stack, NULL, NULL);
    return state;
#else
    SP_TSAN_SET(co->tsan_resumer_fiber, SP_TSAN_CURRENT_FIBER());
    SP_TSAN_SWITCH_TO(co->tsan_fiber);
    return sp_switch(&co->resumer_sp, co->sp, answer);
#endif
}

/* Runs on the coroutine's stack: hands control back to the resumer with
   state as sp_coro_resume's answer; returns the resumer's answer. */
static inline int switch_to_resumer(sp_coro *co, int state)
{
    co->state = state;
    sp_tls_current = co->resumer;
#if defined(SPINDLE_ASAN)
    SP_ASAN_START_SWITCH(&co->asan_fake_stack, co->asan_resumer_bottom, co->asan_resumer_size);
    int answer = sp_switch(&co->sp, co->resumer_sp, state);
    SP_ASAN_FINISH_SWITCH(co->asan_fake_stack, &co->asan_resumer_bottom, &co->asan_resumer_size);
    return answer;
#else
    SP_TSAN_SWITCH_TO(co->tsan_resumer_fiber);
    return sp_switch(&co->sp, co->resumer_sp, state);
#endif
}

/* The valgrind requests below are out of line: a request's argument block
   on the stack would cost sp_coro_resume its tail call into the switch, and
   a call and a ret around a switch cost more than the switch itself (17
   against 7 ns a switch here); the switch_tail_calls test checks the tail
   call stays. */
static SP_NOINLINE void first_resume_on_thread(void)
{
    sp_fault_thread_init();
    sp_arm_thread_exit(sp_fault_thread_exit);
    tls_thread_ready = 1;
#if defined(SPINDLE_VALGRIND)
    __atomic_store_n(&under_valgrind, RUNNING_ON_VALGRIND != 0, __ATOMIC_RELAXED);
#endif
}

#if defined(SPINDLE_VALGRIND)
/* The outermost resume on a thread, under valgrind: memcheck marks what lies
   below a thread's stack pointer inaccessible, and __morestack and
   sp_systemstack will run there, below the frame the switch is made from
   here, while co runs. Not a tail call: valgrind runs are not timed. */
static SP_NOINLINE int resume_under_valgrind(sp_coro *co, int answer)
{
    /* From just below this frame's own words: the switch's save area and
       the system stack top (128 bytes further down) fall inside. */
    char *below = (char *)__builtin_frame_address(0) - 128;
    SP_VG_MAKE_UNDEFINED(below - 16 * 1024, 16 * 1024);
    return switch_to_coroutine(co, answer);
}
#endif

int sp_coro_resume(sp_coro *co)
{
    int err = check_live(co);
    if (err != SP_OK)
        return err;
    if (co->state == SP_STATE_RUNNING || co->state == SP_STATE_DONE)
        return SP_ESTATE;
    if (SP_UNLIKELY(!tls_thread_ready))
        first_resume_on_thread();
    int answer = co->state == SP_STATE_REQUEST ? co->request->result : SP_OK;
    /* The thread's own stack stays free below its outermost resume. */
    co->system_sp_slot = sp_tls_current != NULL ? sp_tls_current->system_sp_slot : &co->resumer_sp;
    co->resumer = sp_tls_current;
    co->request = NULL;
    co->state = SP_STATE_RUNNING;
#if defined(SPINDLE_VALGRIND)
    if (SP_UNLIKELY(__atomic_load_n(&under_valgrind, __ATOMIC_RELAXED)) && sp_tls_current == NULL) {
        sp_tls_current = co;
        return resume_under_valgrind(co, answer);
    }
#endif
    sp_tls_current = co;
    return switch_to_coroutine(co, answer);
}

int sp_coro_transfer(sp_coro *co, sp_coro *n)
{
    n->resumer = co->resumer;
    n->resumer_sp = co->resumer_sp;
    n->system_sp_slot = co->system_sp_slot == &co->resumer_sp ? &n->resumer_sp : co->system_sp_slot;
    n->request = NULL;
    n->state = SP_STATE_RUNNING;
    co->state = SP_STATE_SUSPENDED;
    sp_tls_current = n;
    /* n goes back to co's resumer, fiber too. */
    SP_TSAN_SET(n->tsan_resumer_fiber, co->tsan_resumer_fiber);
    SP_TSAN_SWITCH_TO(n->tsan_fiber);
    /* n was suspended by sp_coro_transfer or sp_coro_suspend itself, so both
       sides return to the same call sites and the return predictor stays
       right. */
    return sp_switch_symmetric(&co->sp, n->sp, SP_OK);
}

int sp_coro_suspend(sp_coro *co) { return switch_to_resumer(co, SP_STATE_SUSPENDED); }

int sp_coro_yield(void)
{
    sp_coro *co = sp_tls_current;
    if (co == NULL)
        return SP_ENOTGOROUTINE;
    return switch_to_resumer(co, SP_STATE_SUSPENDED);
}

int sp_coro_request(sp_request *req)
{
    sp_coro *co = sp_tls_current;
    if (co == NULL)
        return SP_ENOTGOROUTINE;
    if (req == NULL || req->op < 1)
        return SP_EINVAL;
#if SP_HAVE_SEGMENTS
    /* A goroutine about to park gives back a large segment kept from a
       call into libc, so a parked goroutine holds about 2 KiB. */
    if (co->kind == SP_STACK_SEGMENTED)
        sp_segment_drop_large_cache(co);
#endif
    co->request = req;
    return switch_to_resumer(co, SP_STATE_REQUEST);
}

sp_request *sp_coro_pending(const sp_coro *co)
{
    if (check_live(co) != SP_OK || co->state != SP_STATE_REQUEST)
        return NULL;
    return co->request;
}

/* Called by sp_coro_trampoline on the new stack; never returns. */
SP_HIDDEN void sp_coro_entry(sp_coro *co);
void sp_coro_entry(sp_coro *co)
{
    SP_ASAN_FINISH_SWITCH(NULL, &co->asan_resumer_bottom, &co->asan_resumer_size);
    co->fn(co->arg);
    co->state = SP_STATE_DONE;
    sp_tls_current = co->resumer;
    /* A NULL fake-stack slot tells ASan this stack is finished for good. */
    SP_ASAN_START_SWITCH(NULL, co->asan_resumer_bottom, co->asan_resumer_size);
    SP_TSAN_SWITCH_TO(co->tsan_resumer_fiber);
    sp_switch(&co->sp, co->resumer_sp, SP_STATE_DONE);
    abort(); /* a finished coroutine is never resumed */
}

int sp_coro_destroy(sp_coro *co)
{
    int err = check_live(co);
    if (err != SP_OK)
        return err;
    if (co->state == SP_STATE_RUNNING)
        return SP_ESTATE;
    co->magic = SP_CORO_DEAD;
    co->fn = NULL;
    co->request = NULL;
    SP_TSAN_FIBER_DESTROY(co->tsan_fiber);
    if (co->kind == SP_STACK_RESERVED)
        SP_ASAN_UNPOISON(co->stack.low, co->stack.usable);
#if SP_HAVE_SEGMENTS
    if (co->kind == SP_STACK_SEGMENTED) {
        sp_segment_give_all(co);
        return SP_OK;
    }
#endif
    sp_pool_give(co);
    return SP_OK;
}

size_t sp_coro_stack_max(const sp_coro *co)
{
    if (check_live(co) != SP_OK)
        return 0;
    return co->kind == SP_STACK_SEGMENTED ? co->segment_max : co->stack.usable;
}

int sp_coro_stack_kind(const sp_coro *co)
{
    int err = check_live(co);
    return err != SP_OK ? err : co->kind;
}

int sp_systemstack(sp_fn fn, void *arg)
{
    if (fn == NULL)
        return SP_EINVAL;
    sp_coro *co = sp_tls_current;
#if defined(__x86_64__) && !defined(_WIN32) && !defined(SPINDLE_ASAN)
    if (co != NULL && !co->on_system_stack) {
        co->on_system_stack = 1;
        sp_run_on_stack(fn, arg, sp_system_stack_top(co));
        co->on_system_stack = 0;
        return SP_OK;
    }
#else
    (void)co;
#endif
    fn(arg);
    return SP_OK;
}

uint64_t sp_coro_id(const sp_coro *co)
{
    return check_live(co) == SP_OK ? co->id : 0;
}

int sp_coro_state(const sp_coro *co)
{
    int err = check_live(co);
    return err != SP_OK ? err : co->state;
}

size_t sp_coro_stack_used(const sp_coro *co)
{
    if (check_live(co) != SP_OK)
        return 0;
    if (co->kind == SP_STACK_SEGMENTED)
        return co->segment_bytes;
    /* Stacks are zero when a coroutine gets them (fresh pages, or cleaned by
       sp_stack_clean), so the deepest non-zero word is the high-water mark. */
    const char *floor = sp_stack_readable_floor(&co->stack);
    const char *top = co->stack.top;
    SP_VG_MAKE_DEFINED(floor, (size_t)(top - floor));
    for (const uint64_t *p = (const uint64_t *)floor; (const char *)p < top; p++) {
        if (*p != 0)
            return (size_t)(top - (const char *)p);
    }
    return 0;
}
