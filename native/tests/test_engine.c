/* The engine, natively: channels, select, timers, mutexes and wait groups
   used by native goroutines on 1, 2 and 4 processors of the test harness
   (harness.c), with the goroutine programs the managed tests also run
   (goroutines/chan_programs.c, goroutines/reliability_programs.c). Every
   build runs it: natively, under valgrind, ASan and TSan, on AArch64 under
   qemu and on Win64 under wine. */
#include "channel_workloads.h"
#include "check.h"
#include "harness.h"

#include <stdatomic.h>
#include <string.h>

void tp_chan_rules(void *p);
void tp_signal_channels(void *p);
void tp_fifo_contention(void *p);
void tp_select_fairness(void *p);
void tp_select_parked(void *p);
void tp_stress(void *p);
void tp_timers(void *p);
void tp_mutex(void *p);
void tp_chan_bad_input(void *p);
void tp_fast_pingpong(void *p);
void tp_fair_busy(void *p);
void tp_leak_rounds(void *p);
void tp_handle_kinds(void *p);

static const int procs_of[] = { 1, 2, 4 };

/* Runs program on procs processors; its io[0] counts failed checks and io[1]
   holds the line of the first. */
static void run_program(const char *name, sp_fn program, int64_t *io, int procs)
{
    int rc = harness_run(program, io, procs);
    CHECK_EQ(rc, 0);
    if (io[0] != 0)
        fprintf(stderr, "%s on %d: %lld checks failed, the first at line %lld\n", name, procs,
                (long long)io[0], (long long)io[1]);
    CHECK_EQ(io[0], 0);
}

static void test_go_channel_rules(void)
{
    for (int i = 0; i < 3; i++) {
        int64_t io[2] = { 0 };
        run_program("tp_chan_rules", tp_chan_rules, io, procs_of[i]);
        int64_t sig[2] = { 0 };
        run_program("tp_signal_channels", tp_signal_channels, sig, procs_of[i]);
    }
}

static void test_fifo_per_sender_nothing_lost(void)
{
    const int64_t capacities[] = { 0, 8, 3 };
    for (int i = 0; i < 3; i++) {
        int64_t io[8] = { 0, 0, 6, 2000, 4, capacities[i] };
        run_program("tp_fifo_contention", tp_fifo_contention, io, procs_of[i]);
        CHECK_EQ(io[6], 6 * 2000);
        CHECK_EQ(io[7], 6 * (int64_t)2000 * 2001 / 2);
    }
}

static void test_select(void)
{
    int64_t fair[5] = { 0, 0, 100000 };
    run_program("tp_select_fairness", tp_select_fairness, fair, 1);
    CHECK_EQ(fair[3] + fair[4], 100000);
    /* Binomial(100000, 1/2): 8 standard deviations either side. */
    CHECK(fair[3] > 50000 - 1265 && fair[3] < 50000 + 1265);
    for (int i = 0; i < 2; i++) {
        int64_t io[2] = { 0 };
        run_program("tp_select_parked", tp_select_parked, io, procs_of[i]);
    }
}

static void test_stress_exactly_once(void)
{
    for (int i = 0; i < 3; i++) {
        int64_t io[9] = { 0, 0, 8, 2000, 5 };
        run_program("tp_stress", tp_stress, io, procs_of[i]);
        CHECK_EQ(io[5], 8 * 2000);
        CHECK_EQ(io[6], 8 * (int64_t)2000 * 2001 / 2);
        CHECK(io[8] > 0); /* some select took its default case */
    }
}

static void test_timers_not_early_and_tickers_stop(void)
{
    int64_t io[8] = { 0, 0, 20000000 };
    run_program("tp_timers", tp_timers, io, 2);
    CHECK_EQ(io[3], 1);
    CHECK(io[4] >= io[2]);
    CHECK_EQ(io[5], 3);
    CHECK_EQ(io[6], 1);
    CHECK_EQ(io[7], 0);
}

static void test_mutex_excludes(void)
{
    for (int i = 0; i < 3; i += 2) {
        int64_t io[6] = { 0, 0, 10, 500 };
        run_program("tp_mutex", tp_mutex, io, procs_of[i]);
        CHECK_EQ(io[4], 10 * 500);
        CHECK_EQ(io[5], 1);
    }
}

static void test_bad_input_codes(void)
{
    int64_t io[40] = { 0 };
    CHECK_EQ(harness_run(tp_chan_bad_input, io, 1), 0);
    const int64_t expected[] = {
        SP_EINVAL, SP_EINVAL, SP_EINVAL, SP_EINVAL, 1, SP_OK, SP_EINVAL, SP_OK,
        SP_EINVAL, SP_EINVAL, SP_EINVAL, SP_EINVAL, SP_OK, 7, SP_EINVAL, SP_OK,
        SP_ESTALE, SP_ESTALE, SP_ESTALE, SP_ESTALE, SP_ESTALE, SP_ESTALE, SP_EINVAL,
        SP_EINVAL, SP_EINVAL, SP_EINVAL, SP_EINVAL, 12345,
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        if (io[i] != expected[i]) {
            fprintf(stderr, "bad input %zu: %lld, expected %lld\n", i, (long long)io[i], (long long)expected[i]);
            check_failures++;
        }
    int64_t kinds[3] = { 0 };
    run_program("tp_handle_kinds", tp_handle_kinds, kinds, 1);
    CHECK_EQ(kinds[2], 1);
}

static void test_pingpong_in_the_loop(void)
{
    for (int i = 0; i < 3; i++) {
        int64_t io[5] = { 0, 0, 20000 };
        run_program("tp_fast_pingpong", tp_fast_pingpong, io, procs_of[i]);
        CHECK_EQ(io[3], 20000);
        CHECK_EQ(io[4], 1);
    }
}

/* The benchmarks' programs (programs/channel_workloads.c) deliver every value:
   io[2] round trips, io[3] the ping-pong's counter, io[4] the select ping-pong's,
   io[5] the ring's hops. */
static void workloads(void *p)
{
    int64_t *io = p;
    io[3] = wl_pingpong(io[2]);
    io[4] = wl_select_pingpong(io[2]);
    io[5] = wl_ring(100, io[2] / 100);
}

static void test_benchmark_workloads(void)
{
    for (int i = 0; i < 3; i++) {
        int64_t io[6] = { 0, 0, 20000 };
        run_program("workloads", workloads, io, procs_of[i]);
        CHECK_EQ(io[3], 20000);
        CHECK_EQ(io[4], 20000);
        CHECK_EQ(io[5], 20000);
    }
}

/* ---- fairness: the harness watches from a plain thread ------------------------ */

typedef struct watch {
    int64_t *io;
    int everyone;
} watch;

static void watch_fairness(void *arg)
{
    watch *w = arg;
    int64_t *io = w->io;
    /* A generous deadline: a starved goroutine never runs at all. */
    for (int i = 0; i < 20000 && !(atomic_load((_Atomic int64_t *)&io[6]) && atomic_load((_Atomic int64_t *)&io[7])); i++)
        harness_nap(1000000);
    w->everyone = atomic_load((_Atomic int64_t *)&io[6]) && atomic_load((_Atomic int64_t *)&io[7]);
    atomic_store((_Atomic int64_t *)&io[5], 1); /* the busy units stop */
}

static void test_busy_goroutines_leave_everyone_a_turn(void)
{
    /* units per processor: pairs unbuffered, pairs buffered, select pollers */
    const int64_t buffered[] = { 0, 1, 0 }, pollers[] = { 0, 0, 1 };
    for (int procs = 1; procs <= 2; procs++)
        for (int kind = 0; kind < 3; kind++) {
            int64_t io[10] = { 0, 0, procs, buffered[kind], pollers[kind] };
            watch w = { io, 0 };
            harness_thread *t = harness_start(watch_fairness, &w);
            run_program("tp_fair_busy", tp_fair_busy, io, procs);
            harness_join(t);
            if (!w.everyone)
                fprintf(stderr, "fairness on %d, kind %d: sleeper %lld, runnable %lld after %lld rounds\n", procs,
                        kind, (long long)io[6], (long long)io[7], (long long)io[8]);
            CHECK(w.everyone);
            CHECK(io[8] > 0);
        }
}

/* ---- leaks: released objects give their memory back ------------------------------ */

static void test_released_objects_give_memory_back(void)
{
    const int64_t per_round[] = { 100, 20000, 2000, 20000, 20000, 20000 };
    int skip = getenv("SPINDLE_TEST_SKIP_RSS") != NULL;
    /* Rounds after the second are there to be compared with it: without the
       RSS check, two (TSan takes most of a millisecond a goroutine). */
    int64_t rounds = skip ? 2 : 10;
    for (int kind = 0; kind < 6; kind++) {
        int64_t io[7] = { 0, 0, rounds, per_round[kind], kind };
        run_program("tp_leak_rounds", tp_leak_rounds, io, 2);
        if (!skip && io[5] > 0 && io[6] - io[5] >= 16 << 20) {
            fprintf(stderr, "kind %d: resident memory grew by %lld MiB\n", kind, (long long)((io[6] - io[5]) >> 20));
            check_failures++;
        }
    }
}

/* ---- windows the TSan tree found: each program goes through one again and again -- */

/* Counts a failed check of a goroutine (CHECK itself is for the test's thread). */
static _Atomic int goroutine_failures;
#define GO_CHECK(cond)                                                                  \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: check failed in a goroutine: %s\n", __FILE__, __LINE__, #cond); \
            atomic_fetch_add(&goroutine_failures, 1);                                   \
        }                                                                               \
    } while (0)

/* Receivers park in a select over two channels, a and b, and senders
   complete them: one sending on a alone, or several that each select
   between sending on a and on b (parked on both too). */
typedef struct select_wakes {
    sp_chan a, b;
    int64_t rounds;  /* values each sender sends */
    sp_wg senders, receivers;
    _Atomic int64_t received, sum;
} select_wakes;

static void select_receiver(void *p)
{
    select_wakes *w = p;
    int64_t v;
    bool ok;
    sp_case cases[2] = { { w->a, SP_RECV, &v, &ok }, { w->b, SP_RECV, &v, &ok } };
    for (;;) {
        int chosen = sp_select(cases, 2, false);
        GO_CHECK(chosen == 0 || chosen == 1);
        if (chosen < 0 || !ok)
            break; /* closed: the senders are done */
        atomic_fetch_add(&w->received, 1);
        atomic_fetch_add(&w->sum, v);
    }
    sp_wg_done(w->receivers);
}

static void send_on_a(void *p)
{
    select_wakes *w = p;
    for (int64_t v = 1; v <= w->rounds; v++)
        GO_CHECK(sp_chan_send(w->a, &v) == SP_OK);
    sp_wg_done(w->senders);
}

static void send_on_either(void *p)
{
    select_wakes *w = p;
    for (int64_t v = 1; v <= w->rounds; v++) {
        sp_case cases[2] = { { w->a, SP_SEND, &v, NULL }, { w->b, SP_SEND, &v, NULL } };
        int chosen = sp_select(cases, 2, false);
        GO_CHECK(chosen == 0 || chosen == 1);
    }
    sp_wg_done(w->senders);
}

/* io[0]: how many senders on either channel (0: one on a alone); io[1]: 1
   when every value came once. */
static void select_wakes_program(void *p)
{
    int64_t *io = p;
    int64_t senders = io[0] > 0 ? io[0] : 1, receivers = 2;
    select_wakes w = { .rounds = 2000 };
    GO_CHECK(sp_chan_make(&w.a, sizeof(int64_t), 0) == SP_OK);
    GO_CHECK(sp_chan_make(&w.b, sizeof(int64_t), 0) == SP_OK);
    GO_CHECK(sp_wg_make(&w.senders) == SP_OK && sp_wg_make(&w.receivers) == SP_OK);
    sp_wg_add(w.receivers, (int)receivers);
    sp_wg_add(w.senders, (int)senders);
    for (int64_t i = 0; i < receivers; i++)
        GO_CHECK(sp_go(select_receiver, &w) == SP_OK);
    for (int64_t i = 0; i < senders; i++)
        GO_CHECK(sp_go(io[0] > 0 ? send_on_either : send_on_a, &w) == SP_OK);
    sp_wg_wait(w.senders);
    GO_CHECK(sp_chan_close(w.a) == SP_OK && sp_chan_close(w.b) == SP_OK);
    sp_wg_wait(w.receivers);
    io[1] = atomic_load(&w.received) == senders * w.rounds &&
            atomic_load(&w.sum) == senders * w.rounds * (w.rounds + 1) / 2;
    sp_chan_release(w.a);
    sp_chan_release(w.b);
    sp_wg_release(w.senders);
    sp_wg_release(w.receivers);
}

/* The loop releases a parked select's locks once it is switched out; the
   first lock released may let a sender wake it, and the woken goroutine, on
   another processor, may finish its select and start the next one on the
   same block while the release is still under way. */
static void test_select_woken_while_its_locks_go(void)
{
    int64_t io[2] = { 0, 0 };
    CHECK_EQ(harness_run(select_wakes_program, io, 2), 0);
    CHECK_EQ(io[1], 1);
}

/* Senders race for a parked select: one that loses takes the select's
   waiter out of its queue and fails to claim it, while the winner wakes the
   select, which may return at once and reuse that memory. */
static void test_select_claimed_by_one_of_several_senders(void)
{
    int64_t io[2] = { 6, 0 };
    CHECK_EQ(harness_run(select_wakes_program, io, 2), 0);
    CHECK_EQ(io[1], 1);
}

/* Timer and ticker channels released on one processor while the timers fire
   on another (or an idle worker runs them). */
static void timer_releaser(void *p)
{
    sp_wg done = *(sp_wg *)p;
    for (int i = 0; i < 300; i++) {
        sp_chan after, ticker;
        int64_t t = 0;
        GO_CHECK(sp_after(&after, 20 * 1000) == SP_OK);
        GO_CHECK(sp_chan_recv(after, &t, NULL) == SP_OK && t > 0);
        GO_CHECK(sp_chan_release(after) == SP_OK);
        GO_CHECK(sp_ticker_make(&ticker, 20 * 1000) == SP_OK);
        GO_CHECK(sp_chan_recv(ticker, &t, NULL) == SP_OK && t > 0);
        GO_CHECK(sp_chan_release(ticker) == SP_OK); /* not stopped: it may be firing again */
    }
    sp_wg_done(done);
}

static void timers_released_program(void *p)
{
    (void)p;
    sp_wg done;
    GO_CHECK(sp_wg_make(&done) == SP_OK);
    sp_wg_add(done, 4);
    for (int i = 0; i < 4; i++)
        GO_CHECK(sp_go(timer_releaser, &done) == SP_OK);
    sp_wg_wait(done);
    sp_wg_release(done);
}

static void test_timers_released_while_they_fire(void)
{
    CHECK_EQ(harness_run(timers_released_program, NULL, 2), 0);
}

/* Goroutines that yield and park over and over on four processors: idle
   workers steal from the queues their owners are about to take from. */
typedef struct steals {
    sp_chan ch;
    sp_wg done;
    _Atomic int64_t turns;
} steals;

static void yield_and_park(void *p)
{
    steals *s = p;
    int64_t v = 0;
    for (int i = 0; i < 300; i++) {
        sp_gosched();
        GO_CHECK(sp_chan_send(s->ch, &v) == SP_OK);
        GO_CHECK(sp_chan_recv(s->ch, &v, NULL) == SP_OK);
        atomic_fetch_add(&s->turns, 1);
    }
    sp_wg_done(s->done);
}

static void steals_program(void *p)
{
    int64_t *io = p;
    steals s = { 0 };
    GO_CHECK(sp_chan_make(&s.ch, sizeof(int64_t), 1) == SP_OK);
    GO_CHECK(sp_wg_make(&s.done) == SP_OK);
    sp_wg_add(s.done, 8);
    for (int i = 0; i < 8; i++)
        GO_CHECK(sp_go(yield_and_park, &s) == SP_OK);
    sp_wg_wait(s.done);
    io[0] = atomic_load(&s.turns);
    sp_chan_release(s.ch);
    sp_wg_release(s.done);
}

static void test_queues_stolen_from_while_their_owners_look(void)
{
    int64_t io[1] = { 0 };
    CHECK_EQ(harness_run(steals_program, io, 4), 0);
    CHECK_EQ(io[0], 8 * 300);
}

/* A handle looked up just as its channel is released takes the lock of the
   released state for a moment, while a new channel may be made in that
   state (test_fuzz found it: a goroutine selecting on a released channel). */
typedef struct reuse {
    _Atomic sp_chan published;
    _Atomic int done;
    sp_wg finished;
} reuse;

static void make_and_release(void *p)
{
    reuse *r = p;
    for (int i = 0; i < 2000; i++) {
        sp_chan ch;
        GO_CHECK(sp_chan_make(&ch, sizeof(int64_t), 1) == SP_OK);
        atomic_store(&r->published, ch);
        sp_gosched();
        GO_CHECK(sp_chan_release(ch) == SP_OK);
    }
    atomic_store(&r->done, 1);
    sp_wg_done(r->finished);
}

static void use_published(void *p)
{
    reuse *r = p;
    while (!atomic_load(&r->done)) {
        int len = sp_chan_len(atomic_load(&r->published));
        GO_CHECK(len == 0 || len == SP_ESTALE);
    }
    sp_wg_done(r->finished);
}

static void reuse_program(void *p)
{
    (void)p;
    reuse r = { 0 };
    GO_CHECK(sp_wg_make(&r.finished) == SP_OK);
    sp_wg_add(r.finished, 2);
    GO_CHECK(sp_go(use_published, &r) == SP_OK);
    GO_CHECK(sp_go(make_and_release, &r) == SP_OK);
    sp_wg_wait(r.finished);
    sp_wg_release(r.finished);
}

static void test_stale_handles_while_their_states_are_reused(void)
{
    CHECK_EQ(harness_run(reuse_program, NULL, 2), 0);
}

/* With a test's name, runs that test alone. */
int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
#define RUN_ONE(test) if (only == NULL || strcmp(only, #test) == 0) RUN(test)
    RUN_ONE(test_go_channel_rules);
    RUN_ONE(test_fifo_per_sender_nothing_lost);
    RUN_ONE(test_select);
    RUN_ONE(test_stress_exactly_once);
    RUN_ONE(test_timers_not_early_and_tickers_stop);
    RUN_ONE(test_mutex_excludes);
    RUN_ONE(test_bad_input_codes);
    RUN_ONE(test_pingpong_in_the_loop);
    RUN_ONE(test_benchmark_workloads);
    RUN_ONE(test_busy_goroutines_leave_everyone_a_turn);
    RUN_ONE(test_released_objects_give_memory_back);
    RUN_ONE(test_select_woken_while_its_locks_go);
    RUN_ONE(test_select_claimed_by_one_of_several_senders);
    RUN_ONE(test_timers_released_while_they_fire);
    RUN_ONE(test_queues_stolen_from_while_their_owners_look);
    RUN_ONE(test_stale_handles_while_their_states_are_reused);
    CHECK_EQ(atomic_load(&goroutine_failures), 0);
    return test_summary();
}
