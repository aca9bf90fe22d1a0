/* Coroutine behaviour: ordering of yields, arguments, states, nesting,
   migration between threads, and runtime-call records crossing the switch. */
#include "check.h"
#include "test_thread.h"
#include <spindle.h>
#include <stdatomic.h>
#include <string.h>

static int trace[16];
static int trace_len;

static void counter_body(void *arg)
{
    int n = *(int *)arg;
    for (int i = 0; i < n; i++) {
        trace[trace_len++] = i;
        CHECK_EQ(sp_coro_yield(), SP_OK);
    }
    trace[trace_len++] = 100;
}

static void test_yield_and_resume_alternate(void)
{
    int n = 3;
    sp_coro *co = NULL;
    trace_len = 0;
    CHECK_EQ(sp_coro_create(&co, counter_body, &n, NULL), SP_OK);
    CHECK(co != NULL);
    CHECK_EQ(sp_coro_state(co), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(sp_coro_resume(co), SP_CORO_SUSPENDED);
        CHECK_EQ(trace_len, i + 1);
        CHECK_EQ(trace[i], i);
        CHECK_EQ(sp_coro_state(co), SP_CORO_SUSPENDED);
    }
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    CHECK_EQ(trace[3], 100);
    CHECK_EQ(sp_coro_state(co), SP_CORO_DONE);
    CHECK_EQ(sp_coro_resume(co), SP_ESTATE);
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
}

static sp_coro *self_seen;
static void record_self(void *arg)
{
    (void)arg;
    self_seen = sp_coro_self();
    CHECK_EQ(sp_coro_state(self_seen), SP_CORO_RUNNING);
}

static void test_self_and_ids(void)
{
    sp_coro *a = NULL, *b = NULL;
    CHECK(sp_coro_self() == NULL);
    CHECK_EQ(sp_coro_create(&a, record_self, NULL, NULL), SP_OK);
    CHECK_EQ(sp_coro_create(&b, record_self, NULL, NULL), SP_OK);
    CHECK(sp_coro_id(a) != 0 && sp_coro_id(b) != 0 && sp_coro_id(a) != sp_coro_id(b));
    CHECK_EQ(sp_coro_resume(a), SP_CORO_DONE);
    CHECK(self_seen == a);
    CHECK(sp_coro_self() == NULL);
    CHECK_EQ(sp_coro_destroy(a), SP_OK);
    CHECK_EQ(sp_coro_destroy(b), SP_OK); /* never started: fine to destroy */
}

/* A coroutine that resumes another; each yield returns to its own resumer. */
static sp_coro *inner_co;
static void inner_body(void *arg)
{
    (void)arg;
    trace[trace_len++] = 2;
    sp_coro_yield();
    trace[trace_len++] = 4;
}

static void outer_body(void *arg)
{
    (void)arg;
    trace[trace_len++] = 1;
    CHECK_EQ(sp_coro_resume(inner_co), SP_CORO_SUSPENDED);
    CHECK(sp_coro_self() != inner_co);
    trace[trace_len++] = 3;
    /* The running outer coroutine cannot be resumed or destroyed. */
    CHECK_EQ(sp_coro_resume(sp_coro_self()), SP_ESTATE);
    CHECK_EQ(sp_coro_destroy(sp_coro_self()), SP_ESTATE);
    sp_coro_yield();
    CHECK_EQ(sp_coro_resume(inner_co), SP_CORO_DONE);
    trace[trace_len++] = 5;
}

static void test_nested_coroutines(void)
{
    sp_coro *outer = NULL;
    trace_len = 0;
    CHECK_EQ(sp_coro_create(&outer, outer_body, NULL, NULL), SP_OK);
    CHECK_EQ(sp_coro_create(&inner_co, inner_body, NULL, NULL), SP_OK);
    CHECK_EQ(sp_coro_resume(outer), SP_CORO_SUSPENDED);
    CHECK_EQ(trace_len, 3);
    CHECK_EQ(sp_coro_resume(outer), SP_CORO_DONE);
    CHECK_EQ(trace_len, 5);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(trace[i], i + 1);
    CHECK_EQ(sp_coro_destroy(inner_co), SP_OK);
    CHECK_EQ(sp_coro_destroy(outer), SP_OK);
}

/* A coroutine resumed on several OS threads in turn keeps its locals. */
static void migrating_body(void *arg)
{
    long sum = 0;
    volatile long locals[64];
    for (int i = 0; i < 64; i++)
        locals[i] = i;
    for (int round = 0; round < 4; round++) {
        sp_coro_yield();
        for (int i = 0; i < 64; i++)
            sum += locals[i];
    }
    *(long *)arg = sum;
}

static void resume_once(void *co)
{
    CHECK(sp_coro_resume(co) > 0);
}

static void test_resume_from_other_threads(void)
{
    long result = 0;
    sp_coro *co = NULL;
    CHECK_EQ(sp_coro_create(&co, migrating_body, &result, NULL), SP_OK);
    for (int i = 0; i < 5; i++)
        run_on_new_thread(resume_once, co);
    CHECK_EQ(sp_coro_state(co), SP_CORO_DONE);
    CHECK_EQ(result, 4 * (63 * 64 / 2));
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
}

/* Two threads that make their first resumes at the same time: each sets up
   its own state then (the TSan tree checks that they share nothing unsafely). */
static atomic_int first_resumers_ready;

static void yield_once(void *arg)
{
    *(int *)arg += 1;
    sp_coro_yield();
    *(int *)arg += 1;
}

static void first_resumes(void *arg)
{
    sp_coro *co = NULL;
    if (sp_coro_create(&co, yield_once, arg, NULL) != SP_OK)
        return;
    /* Both have their coroutines (from the pool, under its lock) before
       either resumes. */
    atomic_fetch_add(&first_resumers_ready, 1);
    while (atomic_load(&first_resumers_ready) < 2) {
    }
    if (sp_coro_resume(co) == SP_CORO_SUSPENDED && sp_coro_resume(co) == SP_CORO_DONE)
        *(int *)arg += 10;
    sp_coro_destroy(co);
}

static void test_first_resumes_on_two_threads_at_once(void)
{
    int a = 0, b = 0;
    run_on_two_new_threads(first_resumes, &a, &b);
    CHECK_EQ(a, 12);
    CHECK_EQ(b, 12);
}

/* Runtime calls: the coroutine asks, the resumer answers on its own stack. */
enum { OP_ADD = 1, OP_FAIL = 2, OP_COPY = 3 };

static void client_body(void *arg)
{
    int64_t *total = arg;
    sp_request req;
    memset(&req, 0, sizeof req);
    for (int i = 1; i <= 10; i++) {
        req.op = OP_ADD;
        req.args[0] = (uint64_t)*total;
        req.args[1] = (uint64_t)i;
        CHECK_EQ(sp_coro_request(&req), SP_OK);
        *total = req.value;
    }
    req.op = OP_FAIL;
    CHECK_EQ(sp_coro_request(&req), SP_ECALLBACK);

    /* The server writes straight into this stack's memory while parked. */
    char buffer[32] = "";
    req.op = OP_COPY;
    req.args[0] = (uint64_t)(uintptr_t)buffer;
    req.args[1] = sizeof buffer;
    CHECK_EQ(sp_coro_request(&req), SP_OK);
    CHECK(strcmp(buffer, "served on the resumer") == 0);

    req.op = 0;
    CHECK_EQ(sp_coro_request(&req), SP_EINVAL);
    CHECK_EQ(sp_coro_request(NULL), SP_EINVAL);
}

static void test_request_crosses_the_switch(void)
{
    int64_t total = 0;
    int served = 0;
    sp_coro *co = NULL;
    CHECK_EQ(sp_coro_create(&co, client_body, &total, NULL), SP_OK);
    CHECK(sp_coro_pending(co) == NULL);
    int status;
    while ((status = sp_coro_resume(co)) == SP_CORO_REQUEST) {
        sp_request *req = sp_coro_pending(co);
        CHECK(req != NULL);
        if (req == NULL)
            break;
        CHECK(sp_coro_self() == NULL); /* served outside the coroutine */
        switch (req->op) {
        case OP_ADD:
            req->value = (int64_t)(req->args[0] + req->args[1]);
            req->result = SP_OK;
            break;
        case OP_FAIL:
            req->result = SP_ECALLBACK;
            break;
        case OP_COPY:
            snprintf((char *)(uintptr_t)req->args[0], (size_t)req->args[1], "served on the resumer");
            req->result = SP_OK;
            break;
        }
        served++;
    }
    CHECK_EQ(status, SP_CORO_DONE);
    CHECK_EQ(served, 12);
    CHECK_EQ(total, 55);
    CHECK(sp_coro_pending(co) == NULL);
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
}

static void test_request_outside_coroutine(void)
{
    sp_request req = { .op = OP_ADD };
    CHECK_EQ(sp_coro_request(&req), SP_ENOTGOROUTINE);
}

static void test_destroy_suspended_coroutine(void)
{
    int n = 5;
    sp_coro *co = NULL;
    trace_len = 0;
    CHECK_EQ(sp_coro_create(&co, counter_body, &n, NULL), SP_OK);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_SUSPENDED);
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
    CHECK_EQ(trace_len, 1);
}

int main(void)
{
    RUN(test_yield_and_resume_alternate);
    RUN(test_self_and_ids);
    RUN(test_nested_coroutines);
    RUN(test_resume_from_other_threads);
    RUN(test_first_resumes_on_two_threads_at_once);
    RUN(test_request_crosses_the_switch);
    RUN(test_request_outside_coroutine);
    RUN(test_destroy_suspended_coroutine);
    return test_summary();
}
