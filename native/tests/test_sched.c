/* The native half of a scheduler (sched.c): records, ids, free lists and
   the live count; the global queue and the spill of a full ring; goroutines
   that start without a stack and that the run loop spawns and finishes by
   itself. */
#include "check.h"
#include <spindle.h>
#include <spindle_host.h>
#include <string.h>

#define GEN 3
#define ENTERED (((int64_t)GEN << 8) | SP_P_IN_GOROUTINE)

static sp_sched *new_sched(void)
{
    sp_sched *s = NULL;
    CHECK_EQ(sp_sched_create(&s, SP_STACK_DEFAULT, 0), SP_OK);
    return s;
}

static sp_runq *attached_queue(sp_sched *s)
{
    sp_runq *q = NULL;
    CHECK_EQ(sp_runq_create(&q), SP_OK);
    CHECK_EQ(sp_runq_attach(q, s), SP_OK);
    *sp_runq_status(q) = ENTERED;
    return q;
}

static void test_records_ids_and_live_count(void)
{
    sp_sched *s = new_sched();
    sp_runq *q = attached_queue(s);
    CHECK_EQ(sp_runq_attach(q, s), SP_ESTATE);
    sp_g *a = sp_sched_new_g(s, NULL);
    sp_g *b = sp_sched_new_g(s, q);
    sp_g *c = sp_sched_new_g(s, q);
    CHECK(a != NULL && b != NULL && c != NULL);
    CHECK_EQ(a->id, 1);
    CHECK(b->id != a->id && c->id != b->id && c->id != a->id);
    CHECK_EQ(a->state, SP_G_RUNNABLE);
    /* A P takes new records a batch at a time: one for a, a batch for q. */
    int64_t made = sp_sched_records(s);
    CHECK(made > 3);
    CHECK(sp_sched_record(s, a->slot) == a && sp_sched_record(s, c->slot) == c);
    CHECK(a->slot != b->slot && b->slot != c->slot);
    CHECK(sp_sched_record(s, made) == NULL && sp_sched_record(s, -1) == NULL);
    CHECK_EQ(sp_sched_live(s), 3);

    /* Freed into q's list, b comes back first from q, not from the sched. */
    sp_sched_free_g(s, q, b);
    CHECK_EQ(b->state, SP_G_DEAD);
    CHECK_EQ(sp_sched_live(s), 2);
    /* The walk over live records skips b and the batch's unused records. */
    int64_t first_live = sp_sched_next_live(s, 0);
    int64_t second_live = sp_sched_next_live(s, first_live + 1);
    CHECK_EQ(first_live, a->slot < c->slot ? a->slot : c->slot);
    CHECK_EQ(second_live, a->slot < c->slot ? c->slot : a->slot);
    CHECK_EQ(sp_sched_next_live(s, second_live + 1), -1);
    CHECK_EQ(sp_sched_next_live(s, -5), first_live); /* from below 0: from 0 */
    CHECK_EQ(sp_sched_next_live(s, made + 10), -1);
    CHECK_EQ(sp_sched_next_live(NULL, 0), -1);
    sp_g *again = sp_sched_new_g(s, q);
    CHECK(again == b);
    CHECK(again->id > c->id); /* ids are never reused */
    CHECK_EQ(sp_sched_records(s), made);

    /* A P that retires hands its free records to the sched, which reuses them. */
    sp_sched_free_g(s, q, again);
    sp_sched_drain_free(s, q);
    sp_g *reused = sp_sched_new_g(s, NULL);
    CHECK(reused != NULL && reused != a && reused != c);
    CHECK_EQ(sp_sched_records(s), made);
    sp_sched_free_g(s, NULL, reused);

    /* A queue of another sched is refused. */
    sp_sched *other = new_sched();
    CHECK(sp_sched_new_g(other, q) == NULL);
    sp_sched_free_g(s, NULL, a); /* b is free already */
    sp_sched_free_g(s, q, c);
    CHECK_EQ(sp_sched_live(s), 0);
    sp_runq_destroy(q);
    sp_sched_destroy(other);
    sp_sched_destroy(s);
}

static void test_global_queue_and_spill(void)
{
    sp_sched *s = new_sched();
    sp_runq *q = attached_queue(s);
    enum { N = SP_RUNQ_CAPACITY + 2 };
    sp_g *g[N];
    for (int i = 0; i < N; i++)
        g[i] = sp_sched_new_g(s, q);
    /* runnext takes each new one; the displaced go to the ring, and the one
       that finds it full goes to the global queue with half of the ring. */
    for (int i = 0; i < N; i++)
        sp_runq_put_spill(q, s, g[i], true);
    CHECK_EQ(sp_sched_global_count(s), SP_RUNQ_CAPACITY / 2 + 1);
    int64_t records = sp_sched_records(s);
    int *seen = calloc((size_t)records, sizeof *seen); /* by slot */
    sp_g *first = sp_sched_global_pop(s);
    CHECK(first == g[0]); /* the oldest first */
    seen[first->slot]++;
    for (sp_g *x = sp_runq_get(q); x != NULL; x = sp_runq_get(q))
        seen[x->slot]++;
    /* Go's globrunqget: count / procs + 1 for this P, the first to run now. */
    int64_t left = sp_sched_global_count(s);
    sp_g *now = sp_sched_global_take(s, q, 2);
    CHECK(now != NULL);
    seen[now->slot]++;
    CHECK_EQ(sp_sched_global_count(s), left - (left / 2 + 1));
    for (sp_g *x = sp_runq_get(q); x != NULL; x = sp_runq_get(q))
        seen[x->slot]++;
    for (sp_g *x = sp_sched_global_pop(s); x != NULL; x = sp_sched_global_pop(s))
        seen[x->slot]++;
    int lost = 0, twice = 0;
    for (int i = 0; i < N; i++) {
        lost += seen[g[i]->slot] == 0;
        twice += seen[g[i]->slot] > 1;
    }
    int strays = 0;
    for (int64_t i = 0; i < records; i++)
        strays += seen[i];
    CHECK_EQ(strays, N); /* nothing came out that was not put in */
    free(seen);
    CHECK_EQ(lost, 0);
    CHECK_EQ(twice, 0);
    CHECK(sp_sched_global_take(s, q, 1) == NULL);
    sp_runq_destroy(q);
    sp_sched_destroy(s);
}

/* The global queue is a ring that grows with the records: entries come out
   in the order they went in, also across a growth while the ring wraps. */
static void test_global_queue_keeps_order_as_it_grows(void)
{
    sp_sched *s = new_sched();
    enum { N = 4000, MORE = 200 };
    sp_g **g = malloc((N + MORE) * sizeof *g);
    for (int i = 0; i < N; i++)
        g[i] = sp_sched_new_g(s, NULL);
    for (int i = 0; i < N; i++) /* moves the ring's head near its end */
        sp_sched_global_push(s, g[i]);
    for (int i = 0; i < N; i++)
        CHECK(sp_sched_global_pop(s) == g[i]);
    for (int i = 0; i < N; i++) /* wraps */
        sp_sched_global_push(s, g[i]);
    for (int i = N; i < N + MORE; i++) { /* the ring grows meanwhile */
        g[i] = sp_sched_new_g(s, NULL);
        sp_sched_global_push(s, g[i]);
    }
    CHECK_EQ(sp_sched_global_count(s), N + MORE);
    int out_of_order = 0;
    for (int i = 0; i < N + MORE; i++)
        out_of_order += sp_sched_global_pop(s) != g[i];
    CHECK_EQ(out_of_order, 0);
    CHECK(sp_sched_global_pop(s) == NULL);

    /* Records of another sched, and a record freed twice, are ignored. */
    sp_sched *other = new_sched();
    sp_g *stranger = sp_sched_new_g(other, NULL);
    sp_sched_global_push(s, stranger);
    CHECK_EQ(sp_sched_global_count(s), 0);
    sp_sched_free_g(s, NULL, stranger);
    CHECK_EQ(stranger->state, SP_G_RUNNABLE);
    CHECK_EQ(sp_sched_live(s), N + MORE);
    sp_sched_free_g(s, NULL, g[0]);
    sp_sched_free_g(s, NULL, g[0]);
    CHECK_EQ(sp_sched_live(s), N + MORE - 1);
    for (int i = 1; i < N + MORE; i++)
        sp_sched_free_g(s, NULL, g[i]);
    CHECK_EQ(sp_sched_live(s), 0);
    /* Every record is free once: as many come back as were made, then new ones. */
    int64_t made = sp_sched_records(s);
    for (int64_t i = 0; i < made; i++)
        CHECK(sp_sched_new_g(s, NULL)->state == SP_G_RUNNABLE);
    CHECK_EQ(sp_sched_records(s), made);
    free(g);
    sp_sched_destroy(other);
    sp_sched_destroy(s);
}

/* A thief takes a victim's runnext goroutine only when it asks to (its last
   attempt); the ring it takes either way. */
static void test_steal_leaves_runnext_until_asked(void)
{
    sp_sched *s = new_sched();
    sp_runq *victim = attached_queue(s), *thief = attached_queue(s);
    sp_g *a = sp_sched_new_g(s, victim), *b = sp_sched_new_g(s, victim);
    sp_runq_put(victim, a, true);
    CHECK(sp_runq_steal_from(thief, victim, false) == NULL);
    CHECK(sp_runq_steal_from(thief, victim, true) == a);
    sp_runq_put(victim, a, true);
    sp_runq_put(victim, b, true); /* a goes to the ring */
    CHECK(sp_runq_steal_from(thief, victim, false) == a);
    CHECK(sp_runq_steal_from(thief, victim, true) == b);
    CHECK(sp_runq_empty(victim) && sp_runq_empty(thief));
    CHECK(sp_runq_steal_from(thief, thief, true) == NULL && sp_runq_steal_from(NULL, victim, true) == NULL);
    sp_sched_free_g(s, victim, a);
    sp_sched_free_g(s, victim, b);
    sp_runq_destroy(thief);
    sp_runq_destroy(victim);
    sp_sched_destroy(s);
}

/* ---- the run loop spawns and finishes goroutines itself ------------------- */

enum { CHILDREN = 300 };
static int child_runs[CHILDREN];
static int children_done;

static void child(void *arg)
{
    child_runs[(intptr_t)arg]++;
    children_done++;
}

static void parent(void *arg)
{
    (void)arg;
    for (intptr_t i = 0; i < CHILDREN; i++)
        CHECK_EQ(sp_go(child, (void *)i), SP_OK);
    CHECK_EQ(sp_go(NULL, NULL), SP_EINVAL);
    while (children_done < CHILDREN)
        CHECK_EQ(sp_gosched(), SP_OK);
}

/* What a scheduler does with a goroutine the loop hands back: serves a
   spawn or yield the loop handed back, and finishes the main one. Returns 1
   while there is more to run. */
static int served_spawns;

static int serve(sp_sched *s, sp_runq *q, sp_run_result *r, int *main_done)
{
    sp_g *g = r->g;
    if (r->status == SP_RUN_EXITED || r->status == SP_RUN_REQUEUED || r->status == SP_RUN_PARKED)
        return 1;
    if (r->status == SP_CORO_DONE) {
        CHECK(g->flags & SP_G_EXIT_TO_SCHEDULER); /* the others the loop finished */
        CHECK_EQ(sp_coro_destroy(g->coro), SP_OK);
        sp_sched_free_g(s, q, g);
        *main_done = 1;
        return 1;
    }
    sp_request *req = sp_coro_pending(g->coro);
    if (r->status == SP_CORO_REQUEST && req->op == SP_OP_GO) {
        served_spawns++;
        sp_g *n = sp_sched_new_g(s, q);
        req->result = sp_g_init_native(s, n, (sp_fn)(uintptr_t)req->args[0], (void *)(uintptr_t)req->args[1]);
        sp_runq_put_spill(q, s, n, true);
        sp_runq_put_spill(q, s, g, false);
        return 1;
    }
    CHECK(r->status == SP_CORO_SUSPENDED || (r->status == SP_CORO_REQUEST && req->op == SP_OP_GOSCHED));
    if (req != NULL)
        req->result = SP_OK;
    sp_runq_put_spill(q, s, g, false);
    return 1;
}

static sp_g *next_to_run(sp_sched *s, sp_runq *q, int round)
{
    sp_g *g = round % 4 == 0 ? sp_sched_global_pop(s) : NULL;
    if (g == NULL)
        g = sp_runq_get(q);
    return g != NULL ? g : sp_sched_global_pop(s);
}

static void test_loop_spawns_and_finishes_goroutines(void)
{
    sp_sched *s = new_sched();
    sp_runq *q = attached_queue(s);
    memset(child_runs, 0, sizeof child_runs);
    children_done = 0;
    served_spawns = 0;
    sp_g *main_g = sp_sched_new_g(s, q);
    CHECK_EQ(sp_g_init_native(s, main_g, parent, NULL), SP_OK);
    main_g->flags |= SP_G_EXIT_TO_SCHEDULER;
    CHECK(main_g->coro == NULL); /* no stack until it runs */
    sp_runq_put(q, main_g, true);
    int main_done = 0, rounds = 0;
    /* As the scheduler does, the global queue first now and then: the parent
       yields to itself while its spilled children wait there. */
    for (sp_g *g; (g = next_to_run(s, q, rounds)) != NULL; rounds++) {
        sp_run_result r;
        CHECK_EQ(sp_runq_run(q, g, ENTERED, 61, &r), SP_OK);
        CHECK_EQ(r.lost, 0);
        serve(s, q, &r, &main_done);
        *sp_runq_status(q) = ENTERED;
    }
    CHECK_EQ(main_done, 1);
    CHECK_EQ(children_done, CHILDREN);
    int wrong = 0;
    for (int i = 0; i < CHILDREN; i++)
        wrong += child_runs[i] != 1;
    CHECK_EQ(wrong, 0);
    CHECK_EQ(sp_sched_live(s), 0);
    /* Spawned by the loop, every child existed before the parent first
       yielded, so each got a record of its own. All are free now. */
    if (served_spawns == 0)
        CHECK(sp_sched_records(s) >= CHILDREN + 1);
    for (int64_t i = 0; i < sp_sched_records(s); i++)
        CHECK_EQ(sp_sched_record(s, i)->state, SP_G_DEAD);
    sp_runq_destroy(q);
    sp_sched_destroy(s);
}

static void test_fresh_goroutines_and_bad_input(void)
{
    sp_sched *s = NULL;
    CHECK_EQ(sp_sched_create(NULL, SP_STACK_DEFAULT, 0), SP_EINVAL);
    CHECK_EQ(sp_sched_create(&s, 42, 0), SP_EINVAL);
    CHECK_EQ(sp_sched_create(&s, SP_STACK_DEFAULT, 1), SP_EINVAL);
    CHECK(s == NULL);
    s = new_sched();
    sp_runq *q = attached_queue(s);
    sp_g *g = sp_sched_new_g(s, q);
    CHECK_EQ(sp_g_init_native(s, g, NULL, NULL), SP_EINVAL);
    CHECK_EQ(sp_g_init_native(NULL, g, child, NULL), SP_EINVAL);
    CHECK_EQ(sp_g_start(s, g), SP_EINVAL); /* nothing to run */
    sp_run_result r;
    CHECK_EQ(sp_runq_run(q, g, ENTERED, 1, &r), SP_EINVAL);
    memset(child_runs, 0, sizeof child_runs);
    children_done = 0;
    CHECK_EQ(sp_g_init_native(s, g, child, (void *)(intptr_t)7), SP_OK);
    CHECK(g->coro == NULL);
    CHECK_EQ(sp_g_start(s, g), SP_OK);
    CHECK(g->coro != NULL && g->fn == NULL);
    CHECK_EQ(sp_g_start(s, g), SP_OK); /* already started */
    CHECK_EQ(sp_runq_run(q, g, ENTERED, 1, &r), SP_OK);
    CHECK_EQ(r.status, SP_RUN_EXITED); /* finished and freed by the loop */
    CHECK_EQ(child_runs[7], 1);
    CHECK_EQ(g->state, SP_G_DEAD);
    CHECK(g->coro == NULL);
    /* A queue with no sched runs nothing. */
    sp_runq *plain = NULL;
    CHECK_EQ(sp_runq_create(&plain), SP_OK);
    g = sp_sched_new_g(s, q);
    CHECK_EQ(sp_g_init_native(s, g, child, NULL), SP_OK);
    CHECK_EQ(sp_runq_run(plain, g, ENTERED, 1, &r), SP_EINVAL);
    CHECK_EQ(sp_g_start(s, g), SP_OK);
    CHECK_EQ(sp_runq_run(plain, g, ENTERED, 1, &r), SP_EINVAL);
    CHECK_EQ(sp_coro_destroy(g->coro), SP_OK);
    sp_sched_free_g(s, q, g);
    CHECK_EQ(sp_runq_attach(NULL, s), SP_EINVAL);
    CHECK(sp_sched_new_g(NULL, NULL) == NULL);
    sp_sched_free_g(NULL, NULL, NULL); /* ignored */
    CHECK_EQ(sp_sched_live(NULL), 0);
    CHECK_EQ(sp_sched_records(NULL), 0);
    CHECK(sp_sched_global_pop(NULL) == NULL);
    CHECK_EQ(sp_sched_global_count(NULL), 0);
    CHECK(sp_sched_global_take(NULL, q, 1) == NULL && sp_sched_global_take(s, NULL, 1) == NULL);
    sp_sched_global_push(NULL, g); /* ignored */
    sp_sched_global_push(s, NULL);
    CHECK_EQ(sp_sched_global_count(s), 0);
    sp_sched_drain_free(NULL, q); /* ignored */
    sp_sched_drain_free(s, plain); /* not attached to s: ignored */
    sp_runq_put_spill(plain, s, g, true); /* not attached to s: refused */
    CHECK(sp_runq_empty(plain));
    CHECK(sp_sched_record(NULL, 0) == NULL);
    CHECK_EQ(sp_sched_destroy(NULL), SP_EINVAL);
    CHECK(sp_clock_ms() != NULL);
    sp_runq_destroy(plain);
    sp_runq_destroy(q);
    sp_sched_destroy(s);
}

int main(void)
{
    RUN(test_records_ids_and_live_count);
    RUN(test_global_queue_and_spill);
    RUN(test_global_queue_keeps_order_as_it_grows);
    RUN(test_steal_leaves_runnext_until_asked);
    RUN(test_loop_spawns_and_finishes_goroutines);
    RUN(test_fresh_goroutines_and_bad_input);
    return test_summary();
}
