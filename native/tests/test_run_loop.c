/* The run queue and the run loop: queue order, runnext, the full ring, taking
   and stealing half, and the loop's switches between yielding goroutines and
   every reason it stops (an exit, a request, its budget, a held or managed
   goroutine next, a lost processor, a blocking section). The goroutines here
   are records of the test's own, marked to go back to the caller when they
   finish; test_sched.c runs the loop over records the sched makes. */
#include "check.h"
#include <spindle.h>
#include <spindle_host.h>
#include <string.h>

#define GEN 7
#define ENTERED (((int64_t)GEN << 8) | SP_P_IN_GOROUTINE)
#define OWNED (((int64_t)GEN << 8) | SP_P_OWNED)

static char log_buf[64];
static int log_len;
static sp_runq *current_q; /* for the goroutine that plays the monitor */

typedef struct body {
    char name;
    int yields;
    int steal_processor; /* change the status word before the first yield */
    int request_first;   /* a runtime call (sp_block_enter) before the yields */
} body;

static void goroutine_body(void *arg)
{
    body *b = arg;
    if (b->request_first)
        CHECK_EQ(sp_block_enter(), SP_OK);
    if (b->steal_processor)
        *sp_runq_status(current_q) = ((int64_t)(GEN + 1) << 8) | 4; /* as the monitor's retake */
    for (int i = 0; i < b->yields; i++) {
        log_buf[log_len++] = b->name;
        CHECK_EQ(sp_gosched(), SP_OK);
    }
}

/* How a yield the loop hands back looks: a bare yield where sp_gosched
   switches by itself, its runtime call where it cannot (ASan builds). */
static int yielded(const sp_g *g, int status)
{
    if (status == SP_CORO_SUSPENDED)
        return sp_coro_pending(g->coro) == NULL;
    return status == SP_CORO_REQUEST && sp_coro_pending(g->coro)->op == SP_OP_GOSCHED;
}

static void make_g(sp_g *g, body *b, int64_t slot)
{
    sp_coro_options opts;
    memset(&opts, 0, sizeof opts);
    opts.flags = SP_CORO_GOROUTINE;
    memset(g, 0, sizeof *g);
    g->slot = slot;
    g->flags = SP_G_EXIT_TO_SCHEDULER; /* not a record of the sched: the test frees it */
    CHECK_EQ(sp_coro_create(&g->coro, goroutine_body, b, &opts), SP_OK);
}

static void finish(sp_g *g)
{
    while (sp_coro_state(g->coro) != SP_CORO_DONE)
        sp_coro_resume(g->coro);
    CHECK_EQ(sp_coro_destroy(g->coro), SP_OK);
}

static sp_sched *queue_sched;

static sp_runq *new_queue(void)
{
    sp_runq *q = NULL;
    CHECK_EQ(sp_runq_create(&q), SP_OK);
    CHECK(q != NULL && sp_runq_empty(q));
    if (queue_sched == NULL)
        CHECK_EQ(sp_sched_create(&queue_sched, SP_STACK_DEFAULT, 0), SP_OK);
    CHECK_EQ(sp_runq_attach(q, queue_sched), SP_OK);
    *sp_runq_status(q) = ENTERED;
    current_q = q;
    log_len = 0;
    memset(log_buf, 0, sizeof log_buf);
    return q;
}

static void test_queue_order_and_runnext(void)
{
    sp_runq *q = new_queue();
    sp_g a = { .slot = 1 }, b = { .slot = 2 }, c = { .slot = 3 };
    CHECK(sp_runq_put(q, &a, false) == NULL);
    CHECK(sp_runq_put(q, &b, true) == NULL);
    CHECK(sp_runq_put(q, &c, false) == NULL);
    CHECK(!sp_runq_empty(q));
    CHECK(sp_runq_get(q) == &b); /* runnext first */
    CHECK(sp_runq_get(q) == &a);
    CHECK(sp_runq_get(q) == &c);
    CHECK(sp_runq_get(q) == NULL);
    CHECK(sp_runq_empty(q));
    sp_runq_destroy(q);
}

static void test_full_ring(void)
{
    sp_runq *q = new_queue();
    static sp_g gs[SP_RUNQ_CAPACITY + 2];
    for (int i = 0; i < SP_RUNQ_CAPACITY; i++)
        CHECK(sp_runq_put(q, &gs[i], false) == NULL);
    sp_g *extra = &gs[SP_RUNQ_CAPACITY];
    CHECK(sp_runq_put(q, extra, false) == extra);
    CHECK(sp_runq_put(q, extra, true) == NULL);                /* runnext was empty */
    CHECK(sp_runq_put(q, &gs[SP_RUNQ_CAPACITY + 1], true) == extra); /* displaced, no room */
    CHECK(sp_runq_get(q) == &gs[SP_RUNQ_CAPACITY + 1]);
    sp_g *half[SP_RUNQ_CAPACITY / 2];
    CHECK_EQ(sp_runq_take_half(q, half, SP_RUNQ_CAPACITY / 2), SP_RUNQ_CAPACITY / 2);
    CHECK(half[0] == &gs[0] && half[SP_RUNQ_CAPACITY / 2 - 1] == &gs[SP_RUNQ_CAPACITY / 2 - 1]);
    CHECK(sp_runq_get(q) == &gs[SP_RUNQ_CAPACITY / 2]);
    sp_runq_destroy(q);
}

static void test_steal_half(void)
{
    sp_runq *victim = new_queue(), *thief = NULL;
    CHECK_EQ(sp_runq_create(&thief), SP_OK);
    sp_g gs[10];
    for (int i = 0; i < 10; i++)
        sp_runq_put(victim, &gs[i], false);
    CHECK(sp_runq_steal_from(thief, victim, true) == &gs[4]); /* five stolen: the last runs now */
    for (int i = 0; i < 4; i++)
        CHECK(sp_runq_get(thief) == &gs[i]);
    CHECK(sp_runq_get(thief) == NULL);
    CHECK(sp_runq_get(victim) == &gs[5]);
    /* With only runnext left, a thief takes that. */
    sp_runq *lone = NULL;
    CHECK_EQ(sp_runq_create(&lone), SP_OK);
    sp_runq_put(lone, &gs[0], true);
    CHECK(sp_runq_steal_from(thief, lone, true) == &gs[0]);
    CHECK(sp_runq_steal_from(thief, lone, true) == NULL);
    sp_runq_destroy(lone);
    sp_runq_destroy(thief);
    sp_runq_destroy(victim);
}

/* After the first round every goroutine last yielded inside the loop, so the
   rest are direct switches from one goroutine to the next. */
static void test_loop_switches_round_robin(void)
{
    sp_runq *q = new_queue();
    body ba = { 'a', 3, 0, 0 }, bb = { 'b', 3, 0, 0 }, bc = { 'c', 3, 0, 0 };
    sp_g a, b, c;
    make_g(&a, &ba, 1);
    make_g(&b, &bb, 2);
    make_g(&c, &bc, 3);
    sp_runq_put(q, &b, false);
    sp_runq_put(q, &c, false);
    sp_run_result r;
    CHECK_EQ(sp_runq_run(q, &a, ENTERED, 100, &r), SP_OK);
    /* Each yield went to the tail and the next one ran, until a returned. */
    CHECK(strcmp(log_buf, "abcabcabc") == 0);
    CHECK(r.g == &a && r.status == SP_CORO_DONE && r.lost == 0);
    CHECK_EQ(r.switches, 9);
    CHECK_EQ(sp_runq_switches(q), 9);
    CHECK_EQ(*sp_runq_status(q), OWNED);
    CHECK_EQ(a.state, SP_G_RUNNING);
    CHECK_EQ(b.state, SP_G_RUNNABLE);
    CHECK(sp_runq_get(q) == &b && sp_runq_get(q) == &c && sp_runq_get(q) == NULL);
    CHECK_EQ(sp_coro_destroy(a.coro), SP_OK);
    finish(&b);
    finish(&c);
    sp_runq_destroy(q);
}

static void test_loop_budget(void)
{
    sp_runq *q = new_queue();
    body ba = { 'a', 5, 0, 0 }, bb = { 'b', 5, 0, 0 };
    sp_g a, b;
    make_g(&a, &ba, 1);
    make_g(&b, &bb, 2);
    sp_runq_put(q, &b, false);
    sp_run_result r;
    CHECK_EQ(sp_runq_run(q, &a, ENTERED, 2, &r), SP_OK);
    /* Two switches (a->b through the loop, b->a directly), then a's third
       yield comes back to the scheduler. */
    CHECK(strcmp(log_buf, "aba") == 0);
    CHECK(r.g == &a && yielded(&a, r.status) && r.switches == 2);
    CHECK(sp_runq_get(q) == &b);
    finish(&a);
    finish(&b);
    sp_runq_destroy(q);
}

static void test_loop_leaves_held_and_managed_goroutines(void)
{
    for (int managed = 0; managed < 2; managed++) {
        sp_runq *q = new_queue();
        body ba = { 'a', 2, 0, 0 }, bo = { 'o', 1, 0, 0 };
        sp_g a, other = { .slot = 9 };
        make_g(&a, &ba, 1);
        if (!managed) {
            make_g(&other, &bo, 9);
            other.hold = 1;
        }
        sp_runq_put(q, &other, true);
        sp_run_result r;
        CHECK_EQ(sp_runq_run(q, &a, ENTERED, 100, &r), SP_OK);
        CHECK(r.g == NULL && r.status == SP_RUN_REQUEUED && r.switches == 0);
        CHECK_EQ(*sp_runq_status(q), OWNED);
        CHECK(sp_runq_get(q) == &other); /* still next, and a behind it */
        CHECK(sp_runq_get(q) == &a);
        CHECK_EQ(a.state, SP_G_RUNNABLE);
        finish(&a);
        if (!managed)
            finish(&other);
        sp_runq_destroy(q);
    }
}

static void test_loop_stops_when_the_processor_is_taken(void)
{
    sp_runq *q = new_queue();
    body ba = { 'a', 1, 1, 0 }, bb = { 'b', 1, 0, 0 };
    sp_g a, b;
    make_g(&a, &ba, 1);
    make_g(&b, &bb, 2);
    sp_runq_put(q, &b, false);
    sp_run_result r;
    CHECK_EQ(sp_runq_run(q, &a, ENTERED, 100, &r), SP_OK);
    /* The loop no longer owns the queue: a comes back untouched, b not run. */
    CHECK(r.g == &a && r.lost == 1 && yielded(&a, r.status) && r.switches == 0);
    CHECK(strcmp(log_buf, "a") == 0);
    CHECK(sp_runq_get(q) == &b && sp_runq_get(q) == NULL);
    finish(&a);
    finish(&b);
    sp_runq_destroy(q);
}

static void test_loop_stops_for_requests_and_blocking_sections(void)
{
    sp_runq *q = new_queue();
    body ba = { 'a', 1, 0, 1 }, bb = { 'b', 1, 0, 0 };
    sp_g a, b;
    make_g(&a, &ba, 1);
    make_g(&b, &bb, 2);
    sp_runq_put(q, &b, false);
    sp_run_result r;
    CHECK_EQ(sp_runq_run(q, &a, ENTERED, 100, &r), SP_OK);
    CHECK(r.g == &a && r.status == SP_CORO_REQUEST && r.switches == 0);
    CHECK_EQ(sp_coro_pending(a.coro)->op, SP_OP_BLOCK_ENTER);
    sp_coro_pending(a.coro)->result = SP_OK;
    /* Entered in a blocking section (any state but IN_GOROUTINE): a yield
       comes straight back. */
    int64_t blocking = ((int64_t)GEN << 8) | 3;
    *sp_runq_status(q) = blocking;
    CHECK_EQ(sp_runq_run(q, &a, blocking, 100, &r), SP_OK);
    CHECK(r.g == &a && r.status == SP_CORO_REQUEST && r.switches == 0);
    CHECK_EQ(sp_coro_pending(a.coro)->op, SP_OP_GOSCHED);
    CHECK_EQ(*sp_runq_status(q), OWNED);
    finish(&a);
    finish(&b);
    sp_runq_destroy(q);
}

static void test_bad_input(void)
{
    sp_runq *q = new_queue();
    sp_g empty = { .slot = 1 };
    sp_run_result r;
    memset(&r, 0x5a, sizeof r);
    CHECK_EQ(sp_runq_create(NULL), SP_EINVAL);
    CHECK_EQ(sp_runq_destroy(NULL), SP_EINVAL);
    CHECK(sp_runq_status(NULL) == NULL);
    CHECK_EQ(sp_runq_switches(NULL), 0);
    CHECK_EQ(sp_runq_busy(NULL), 0);
    CHECK_EQ(sp_runq_busy(q), 0); /* no loop is working on it */
    CHECK(sp_runq_put(NULL, &empty, false) == NULL);
    CHECK(sp_runq_put(q, NULL, true) == NULL && sp_runq_empty(q));
    CHECK(sp_runq_get(NULL) == NULL);
    CHECK(sp_runq_steal_from(q, q, true) == NULL && sp_runq_steal_from(NULL, q, true) == NULL);
    CHECK_EQ(sp_runq_take_half(q, NULL, 4), 0);
    CHECK(sp_runq_empty(NULL));
    CHECK_EQ(sp_runq_run(NULL, &empty, ENTERED, 1, &r), SP_EINVAL);
    CHECK_EQ(sp_runq_run(q, NULL, ENTERED, 1, &r), SP_EINVAL);
    CHECK_EQ(sp_runq_run(q, &empty, ENTERED, 1, &r), SP_EINVAL); /* no coroutine */
    CHECK_EQ(sp_runq_run(q, &empty, ENTERED, 1, NULL), SP_EINVAL);
    sp_runq *unattached = NULL;
    CHECK_EQ(sp_runq_create(&unattached), SP_OK);
    body bu = { 'u', 1, 0, 0 };
    sp_g u;
    make_g(&u, &bu, 5);
    CHECK_EQ(sp_runq_run(unattached, &u, ENTERED, 1, &r), SP_EINVAL); /* no sched */
    finish(&u);
    sp_runq_destroy(unattached);
    CHECK_EQ(r.status, 0x5a5a5a5a); /* untouched */
    sp_runq_destroy(q);
}

int main(void)
{
    RUN(test_queue_order_and_runnext);
    RUN(test_full_ring);
    RUN(test_steal_half);
    RUN(test_loop_switches_round_robin);
    RUN(test_loop_budget);
    RUN(test_loop_leaves_held_and_managed_goroutines);
    RUN(test_loop_stops_when_the_processor_is_taken);
    RUN(test_loop_stops_for_requests_and_blocking_sections);
    RUN(test_bad_input);
    return test_summary();
}
