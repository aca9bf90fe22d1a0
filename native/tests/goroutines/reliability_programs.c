/* Native goroutine programs for the reliability tests (tests/Spindle.Tests/
   ReliabilityTests.cs): fairness under busy goroutines, resources given back
   at release, handles of one kind never acting on another. Each takes an
   int64_t array shared with the test; the layout is described above each
   program. io[0] counts failed checks and io[1] holds the line of the first,
   as in chan_programs.c. */
#define _POSIX_C_SOURCE 200809L
#include "goroutine_program.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#  include <unistd.h>
#endif

#define CHECK(io, cond) \
    do { if (!(cond)) { if ((io)[0]++ == 0) (io)[1] = __LINE__; } } while (0)

static int64_t load(int64_t *slot) { return atomic_load((_Atomic int64_t *)slot); }
static void store(int64_t *slot, int64_t v) { atomic_store((_Atomic int64_t *)slot, v); }
static void add(int64_t *slot, int64_t v) { atomic_fetch_add((_Atomic int64_t *)slot, v); }

/* ---- fairness: goroutines that keep their processor busy, and the ones that
        must still get their turn.
   io[2] busy units (pairs or pollers, one per processor is the hard case)
   io[3] 1: busy pairs trade over buffered channels (capacity 1), 0: unbuffered
   io[4] 1: busy units are select-with-default pollers instead of pairs
   io[5] stop: set by the test; every busy unit then ends
   io[6] a 100 ms sleeper woke (1)
   io[7] a goroutine that was merely runnable ran (1)
   io[8] round trips or polls the busy units made
   io[9] busy units that have started (the test starts its own parties after) */
typedef struct pair {
    int64_t *io;
    sp_chan there, back;
    sp_wg done;
} pair;

static void pair_ping(void *p)
{
    pair *pr = p;
    int64_t *io = pr->io;
    int64_t v = 0;
    add(&io[9], 1);
    while (!load(&io[5])) {
        CHECK(io, sp_chan_send(pr->there, &v) == SP_OK);
        CHECK(io, sp_chan_recv(pr->back, &v, NULL) == SP_OK);
        add(&io[8], 1);
    }
    CHECK(io, sp_chan_close(pr->there) == SP_OK); /* ends the partner's loop */
    sp_wg_done(pr->done);
}

static void pair_pong(void *p)
{
    pair *pr = p;
    int64_t *io = pr->io;
    int64_t v;
    bool ok;
    while (sp_chan_recv(pr->there, &v, &ok) == SP_OK && ok) {
        v++;
        CHECK(io, sp_chan_send(pr->back, &v) == SP_OK);
    }
    sp_wg_done(pr->done);
}

/* Go's `for { select { case <-ch: ...; default: runtime.Gosched() } }`. */
static void poller(void *p)
{
    pair *pr = p;
    int64_t *io = pr->io;
    int64_t v;
    add(&io[9], 1);
    while (!load(&io[5])) {
        sp_case c = { .ch = pr->there, .dir = SP_RECV, .elem = &v };
        int chosen = sp_select(&c, 1, true);
        CHECK(io, chosen == 0 || chosen == 1);
        sp_gosched();
        add(&io[8], 1);
    }
    sp_wg_done(pr->done);
}

static void sleeper(void *p)
{
    int64_t *io = p;
    CHECK(io, sp_sleep(100 * 1000 * 1000) == SP_OK);
    store(&io[6], 1);
}

static void runnable(void *p)
{
    int64_t *io = p;
    store(&io[7], 1);
}

EXPORT void tp_fair_busy(void *p)
{
    int64_t *io = p;
    int64_t units = io[2];
    int pollers = io[4] != 0;
    pair *pairs = calloc((size_t)units, sizeof *pairs);
    sp_wg done;
    CHECK(io, sp_wg_make(&done) == SP_OK);
    CHECK(io, sp_wg_add(done, (int)(pollers ? units : 2 * units)) == SP_OK);
    for (int64_t i = 0; i < units; i++) {
        pair *pr = &pairs[i];
        pr->io = io;
        pr->done = done;
        CHECK(io, sp_chan_make(&pr->there, sizeof(int64_t), io[3] ? 1 : 0) == SP_OK);
        CHECK(io, sp_chan_make(&pr->back, sizeof(int64_t), io[3] ? 1 : 0) == SP_OK);
        if (pollers) {
            CHECK(io, sp_go(poller, pr) == SP_OK);
        } else {
            CHECK(io, sp_go(pair_pong, pr) == SP_OK);
            CHECK(io, sp_go(pair_ping, pr) == SP_OK);
        }
    }
    /* Let the busy units take their processors before the others arrive. */
    while (load(&io[9]) < units)
        sp_gosched();
    CHECK(io, sp_go(sleeper, io) == SP_OK);
    CHECK(io, sp_go(runnable, io) == SP_OK);
    CHECK(io, sp_wg_wait(done) == SP_OK);
    for (int64_t i = 0; i < units; i++) {
        sp_chan_release(pairs[i].there);
        sp_chan_release(pairs[i].back);
    }
    sp_wg_release(done);
    free(pairs);
}

/* ---- resident memory, for the leak rounds (Linux: /proc/self/statm; elsewhere 0) */
static int64_t resident_bytes(void)
{
#if defined(__linux__)
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
#else
    return 0;
#endif
}

/* ---- leak rounds: make, use and release native objects again and again.
   io[2] rounds; io[3] objects per round; io[4] which kind:
     0 channels with a 64 KiB buffer, filled, then released
     1 sp_after timers of an hour, released unread
     2 tickers of 1 ms, released without sp_ticker_stop
     3 mutexes locked, unlocked and released
     4 wait groups added to, done and released
     5 goroutines spawned and finished
   io[5] resident bytes after the second round, io[6] after the last */
static void finish_at_once(void *p) { sp_wg_done(*(sp_wg *)p); }

static void leak_round(int64_t *io, int64_t n, int64_t kind)
{
    enum { ELEMS = 8192 }; /* 8 bytes each: 64 KiB */
    for (int64_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: {
            sp_chan ch;
            CHECK(io, sp_chan_make(&ch, sizeof(int64_t), ELEMS) == SP_OK);
            for (int64_t v = 0; v < ELEMS; v++)
                CHECK(io, sp_chan_send(ch, &v) == SP_OK);
            CHECK(io, sp_chan_release(ch) == SP_OK);
            break;
        }
        case 1: {
            sp_chan t;
            CHECK(io, sp_after(&t, (int64_t)3600 * 1000 * 1000 * 1000) == SP_OK);
            CHECK(io, sp_chan_release(t) == SP_OK);
            break;
        }
        case 2: {
            sp_chan t;
            CHECK(io, sp_ticker_make(&t, 1000 * 1000) == SP_OK);
            CHECK(io, sp_chan_release(t) == SP_OK);
            break;
        }
        case 3: {
            sp_mutex m;
            CHECK(io, sp_mutex_make(&m) == SP_OK);
            CHECK(io, sp_mutex_lock(m) == SP_OK);
            CHECK(io, sp_mutex_unlock(m) == SP_OK);
            CHECK(io, sp_mutex_release(m) == SP_OK);
            break;
        }
        case 4: {
            sp_wg wg;
            CHECK(io, sp_wg_make(&wg) == SP_OK);
            CHECK(io, sp_wg_add(wg, 2) == SP_OK);
            CHECK(io, sp_wg_done(wg) == SP_OK);
            CHECK(io, sp_wg_done(wg) == SP_OK);
            CHECK(io, sp_wg_wait(wg) == SP_OK);
            CHECK(io, sp_wg_release(wg) == SP_OK);
            break;
        }
        default: {
            sp_wg wg;
            CHECK(io, sp_wg_make(&wg) == SP_OK);
            CHECK(io, sp_wg_add(wg, 1) == SP_OK);
            CHECK(io, sp_go(finish_at_once, &wg) == SP_OK);
            CHECK(io, sp_wg_wait(wg) == SP_OK);
            CHECK(io, sp_wg_release(wg) == SP_OK);
            break;
        }
        }
    }
}

EXPORT void tp_leak_rounds(void *p)
{
    int64_t *io = p;
    for (int64_t round = 0; round < io[2]; round++) {
        leak_round(io, io[3], io[4]);
        if (round == 1)
            io[5] = resident_bytes();
    }
    io[6] = resident_bytes();
}

/* ---- released timers and tickers must not keep a program alive: main makes
   io[2] sp_after timers of an hour and io[2] tickers of 1 ms, releases them all
   (the tickers unstopped), then receives from the nil channel forever: with
   nothing left that could wake it, that is a deadlock. */
EXPORT void tp_released_timers_then_block(void *p)
{
    int64_t *io = p;
    for (int64_t i = 0; i < io[2]; i++) {
        sp_chan after, ticker;
        CHECK(io, sp_after(&after, (int64_t)3600 * 1000 * 1000 * 1000) == SP_OK);
        CHECK(io, sp_ticker_make(&ticker, 1000 * 1000) == SP_OK);
        CHECK(io, sp_chan_release(after) == SP_OK);
        CHECK(io, sp_chan_release(ticker) == SP_OK);
    }
    store(&io[3], 1);
    int64_t v;
    sp_chan_recv(0, &v, NULL);
}

/* ---- handles of one kind never act on an object of another kind.
   io[2] 1 when every check ran */
EXPORT void tp_handle_kinds(void *p)
{
    int64_t *io = p;
    sp_chan ch;
    sp_mutex mu;
    sp_wg wg;
    CHECK(io, sp_chan_make(&ch, sizeof(int64_t), 1) == SP_OK);
    CHECK(io, sp_mutex_make(&mu) == SP_OK);
    CHECK(io, sp_wg_make(&wg) == SP_OK);
    CHECK(io, ch != mu && ch != wg && mu != wg);

    /* A wait group's or a mutex's handle is no channel. */
    CHECK(io, sp_chan_close(wg) < 0);
    CHECK(io, sp_chan_close(mu) < 0);
    int64_t v = 7;
    CHECK(io, sp_chan_send(wg, &v) < 0);
    CHECK(io, sp_chan_len(mu) < 0);
    CHECK(io, sp_chan_release(wg) < 0);
    sp_case c = { .ch = mu, .dir = SP_RECV, .elem = &v };
    CHECK(io, sp_select(&c, 1, true) < 0);
    /* A channel's or a wait group's handle is no mutex. */
    CHECK(io, sp_mutex_lock(ch) < 0);
    CHECK(io, sp_mutex_lock(wg) < 0);
    CHECK(io, sp_mutex_release(ch) < 0);
    /* A channel's or a mutex's handle is no wait group. */
    CHECK(io, sp_wg_add(ch, 1) < 0);
    CHECK(io, sp_wg_wait(mu) < 0);
    CHECK(io, sp_wg_release(ch) < 0);
    /* A plain channel is no ticker; 0 is no ticker either. */
    CHECK(io, sp_ticker_stop(ch) == SP_EINVAL);
    CHECK(io, sp_ticker_stop(0) == SP_EINVAL);

    /* Each object is untouched by all of the above. */
    CHECK(io, sp_chan_send(ch, &v) == SP_OK);
    CHECK(io, sp_chan_len(ch) == 1);
    v = 0;
    bool ok = false;
    CHECK(io, sp_chan_recv(ch, &v, &ok) == SP_OK && ok && v == 7);
    CHECK(io, sp_mutex_lock(mu) == SP_OK);
    CHECK(io, sp_mutex_unlock(mu) == SP_OK);
    CHECK(io, sp_wg_add(wg, 1) == SP_OK);
    CHECK(io, sp_wg_done(wg) == SP_OK);
    CHECK(io, sp_wg_wait(wg) == SP_OK);
    CHECK(io, sp_chan_release(ch) == SP_OK);
    CHECK(io, sp_mutex_release(mu) == SP_OK);
    CHECK(io, sp_wg_release(wg) == SP_OK);
    /* Released: stale, whatever call names them. */
    CHECK(io, sp_chan_close(ch) == SP_ESTALE);
    CHECK(io, sp_mutex_lock(mu) == SP_ESTALE);
    CHECK(io, sp_wg_wait(wg) == SP_ESTALE);
    store(&io[2], 1);
}

/* ---- goroutines that never finish when main returns: io[2] spinners (no
   runtime call while they spin), io[3] in a blocking call (sp_block_enter,
   then a wait outside the runtime); io[4] counts those that started; io[5] is
   set by the test once Run has returned, and lets them end (so that no thread
   spins on after the test). The test checks that Run returns promptly. */
static void spin_until_released(void *p)
{
    int64_t *io = p;
    add(&io[4], 1);
    while (!load(&io[5]))
        atomic_signal_fence(memory_order_seq_cst);
}

static void block_until_released(void *p)
{
    int64_t *io = p;
    CHECK(io, sp_block_enter() == SP_OK);
    add(&io[4], 1);
    struct timespec ts = { 0, 1000 * 1000 };
    while (!load(&io[5]))
        nanosleep(&ts, NULL);
    sp_block_exit();
}

EXPORT void tp_stuck_at_exit(void *p)
{
    int64_t *io = p;
    for (int64_t i = 0; i < io[2]; i++)
        CHECK(io, sp_go(spin_until_released, io) == SP_OK);
    for (int64_t i = 0; i < io[3]; i++)
        CHECK(io, sp_go(block_until_released, io) == SP_OK);
    while (load(&io[4]) < io[2] + io[3])
        sp_sleep(1000 * 1000);
}

/* ---- a goroutine between two switches when main returns: Run waits for it
   to reach its next switch (within the stop's grace), and it never runs after
   that. io[2] it started, io[3] it reached its switch, io[4] it ran after the
   switch (it must not). It spins without a switch for 200 ms, long after main
   has returned (main runs on the other processor, or once the monitor hands
   this one over). */
static void switch_late(void *p)
{
    int64_t *io = p;
    store(&io[2], 1);
    int64_t until = now_ns() + 200 * 1000 * 1000;
    while (now_ns() < until)
        atomic_signal_fence(memory_order_seq_cst);
    store(&io[3], 1);
    sp_gosched();
    store(&io[4], 1);
}

EXPORT void tp_switch_after_main(void *p)
{
    int64_t *io = p;
    CHECK(io, sp_go(switch_late, io) == SP_OK);
    while (!load(&io[2]))
        sp_gosched();
}

/* ---- one channel, every kind of party: the native side.
   io[2] the channel (C# made it), io[3] native senders, io[4] values each,
   io[5] native receivers (half of them receive through a select with a
   default case); results: io[6] values received here, io[7] their sum,
   io[8] native senders done (C# closes the channel after every sender of
   every kind is done). Sender k sends k * 2^32 + 1 .. k * 2^32 + io[4],
   with k from 1. */
typedef struct mixed {
    int64_t *io;
    int64_t index;
    sp_wg done;
} mixed;

static void mixed_sender(void *p)
{
    mixed *m = p;
    int64_t *io = m->io;
    for (int64_t i = 1; i <= io[4]; i++) {
        int64_t v = (m->index << 32) + i;
        CHECK(io, sp_chan_send((sp_chan)io[2], &v) == SP_OK);
    }
    add(&io[8], 1);
    sp_wg_done(m->done);
}

static void mixed_receiver(void *p)
{
    mixed *m = p;
    int64_t *io = m->io;
    int64_t v;
    bool ok = false;
    for (;;) {
        if (m->index % 2 == 0) {
            if (sp_chan_recv((sp_chan)io[2], &v, &ok) != SP_OK || !ok)
                break;
        } else {
            sp_case c = { .ch = (sp_chan)io[2], .dir = SP_RECV, .elem = &v, .ok = &ok };
            int chosen = sp_select(&c, 1, true);
            if (chosen == 1) { /* the default case */
                sp_gosched();
                continue;
            }
            CHECK(io, chosen == 0);
            if (!ok)
                break;
        }
        add(&io[6], 1);
        add(&io[7], v);
    }
    sp_wg_done(m->done);
}

EXPORT void tp_mixed_parties(void *p)
{
    int64_t *io = p;
    int64_t n = io[3] + io[5];
    mixed *parties = calloc((size_t)n, sizeof *parties);
    sp_wg done;
    CHECK(io, sp_wg_make(&done) == SP_OK);
    CHECK(io, sp_wg_add(done, (int)n) == SP_OK);
    for (int64_t i = 0; i < n; i++) {
        parties[i] = (mixed){ io, i < io[3] ? i + 1 : i - io[3], done };
        CHECK(io, sp_go(i < io[3] ? mixed_sender : mixed_receiver, &parties[i]) == SP_OK);
    }
    CHECK(io, sp_wg_wait(done) == SP_OK);
    sp_wg_release(done);
    free(parties);
}

/* ---- what native goroutines do without a runtime call: selects that park and
   are completed, closes, mutex hand-offs, wait group waits that park, sleeps.
   io[2] rounds; io[3] 1 when every round was done. */
typedef struct no_calls {
    int64_t *io;
    sp_chan a, b, closing;
    sp_mutex mu;
    sp_wg wg;
    int64_t counter;
} no_calls;

static void no_calls_partner(void *p)
{
    no_calls *n = p;
    int64_t *io = n->io;
    for (int64_t r = 0; r < io[2]; r++) {
        int64_t v = r;
        CHECK(io, sp_chan_send(r % 2 ? n->a : n->b, &v) == SP_OK); /* completes a parked select */
        CHECK(io, sp_mutex_lock(n->mu) == SP_OK);                  /* handed over by unlock */
        n->counter++;
        CHECK(io, sp_mutex_unlock(n->mu) == SP_OK);
        CHECK(io, sp_wg_done(n->wg) == SP_OK);                     /* wakes the parked wait */
    }
    CHECK(io, sp_chan_close(n->closing) == SP_OK);                 /* wakes the parked receiver */
}

EXPORT void tp_engine_without_runtime_calls(void *p)
{
    int64_t *io = p;
    no_calls n = { .io = io };
    CHECK(io, sp_chan_make(&n.a, sizeof(int64_t), 0) == SP_OK);
    CHECK(io, sp_chan_make(&n.b, sizeof(int64_t), 0) == SP_OK);
    CHECK(io, sp_chan_make(&n.closing, 0, 0) == SP_OK);
    CHECK(io, sp_mutex_make(&n.mu) == SP_OK);
    CHECK(io, sp_wg_make(&n.wg) == SP_OK);
    CHECK(io, sp_go(no_calls_partner, &n) == SP_OK);
    for (int64_t r = 0; r < io[2]; r++) {
        CHECK(io, sp_wg_add(n.wg, 1) == SP_OK);
        CHECK(io, sp_mutex_lock(n.mu) == SP_OK);
        int64_t got = -1;
        sp_case cases[2] = { { n.a, SP_RECV, &got, NULL }, { n.b, SP_RECV, &got, NULL } };
        CHECK(io, sp_select(cases, 2, false) == (int)(r % 2 ? 0 : 1)); /* parks: the partner sends */
        CHECK(io, got == r);
        CHECK(io, sp_mutex_unlock(n.mu) == SP_OK); /* the partner waits for it */
        CHECK(io, sp_wg_wait(n.wg) == SP_OK);
        CHECK(io, sp_sleep(r % 100 == 0 ? 1000 : 0) == SP_OK); /* now and then a real sleep */
    }
    bool ok = true;
    CHECK(io, sp_chan_recv(n.closing, NULL, &ok) == SP_OK && !ok);
    CHECK(io, n.counter == io[2]);
    sp_chan_release(n.a);
    sp_chan_release(n.b);
    sp_chan_release(n.closing);
    sp_mutex_release(n.mu);
    sp_wg_release(n.wg);
    store(&io[3], 1);
}

/* ---- a deadlock with every kind of wait in the dump: goroutines parked in a
   channel send and receive, on the nil channel both ways, in a select and an
   empty select, on a mutex and a wait group (all of objects this program
   made, which nothing outside can wake); then main receives forever. */
static sp_chan dead_ch;
static sp_mutex dead_mu;
static sp_wg dead_wg;

static void dead_send(void *p) { (void)p; int64_t v = 1; sp_chan_send(dead_ch, &v); }
static void dead_recv_nil(void *p) { (void)p; int64_t v; sp_chan_recv(0, &v, NULL); }
static void dead_send_nil(void *p) { (void)p; int64_t v = 1; sp_chan_send(0, &v); }
static void dead_select(void *p)
{
    (void)p;
    int64_t v = 1;
    sp_case cases[2] = { { dead_ch, SP_SEND, &v, NULL }, { 0, SP_RECV, &v, NULL } };
    sp_select(cases, 2, false);
}
static void dead_select_none(void *p) { (void)p; sp_select(NULL, 0, false); }
static void dead_lock(void *p) { (void)p; sp_mutex_lock(dead_mu); }
static void dead_wait(void *p) { (void)p; sp_wg_wait(dead_wg); }

EXPORT void tp_deadlock_every_reason(void *p)
{
    int64_t *io = p;
    CHECK(io, sp_chan_make(&dead_ch, sizeof(int64_t), 0) == SP_OK);
    CHECK(io, sp_mutex_make(&dead_mu) == SP_OK);
    CHECK(io, sp_mutex_lock(dead_mu) == SP_OK);
    CHECK(io, sp_wg_make(&dead_wg) == SP_OK);
    CHECK(io, sp_wg_add(dead_wg, 1) == SP_OK);
    sp_fn parked[] = { dead_send, dead_recv_nil, dead_send_nil, dead_select, dead_select_none, dead_lock, dead_wait };
    for (size_t i = 0; i < sizeof parked / sizeof parked[0]; i++)
        CHECK(io, sp_go(parked[i], NULL) == SP_OK);
    sp_sleep(20 * 1000 * 1000); /* they park meanwhile */
    sp_chan nobody;
    CHECK(io, sp_chan_make(&nobody, sizeof(int64_t), 0) == SP_OK);
    int64_t v;
    sp_chan_recv(nobody, &v, NULL);
}

/* ---- a park inside a blocking section, whose processor went to another
        worker meanwhile: the parked goroutine must not hold the channel's lock
        while it waits for a processor, or a goroutine that polls the channel
        on the only processor spins on that lock for good.
   io[2] the sender has parked (1); io[3] the value received; io[4] polls made
   before the receive. GOMAXPROCS 1. */
static sp_chan blocked_park_ch;

static void send_in_blocking_section(void *p)
{
    int64_t *io = p;
    CHECK(io, sp_block_enter() == SP_OK);
    /* Long enough for the monitor to hand the processor to another worker. */
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    int64_t v = 77;
    store(&io[2], 1);
    CHECK(io, sp_chan_send(blocked_park_ch, &v) == SP_OK); /* parks: nobody receives yet */
    CHECK(io, sp_block_exit() == SP_OK);
}

EXPORT void tp_park_in_blocking_section(void *p)
{
    int64_t *io = p;
    CHECK(io, sp_chan_make(&blocked_park_ch, sizeof(int64_t), 0) == SP_OK);
    CHECK(io, sp_go(send_in_blocking_section, io) == SP_OK);
    /* Poll the channel the sender parks in, on the only processor, through a
       select with a default case (which takes the channel's lock), until the
       sender has been parked a while; then receive its value. */
    int64_t v = 0, polls = 0, parked_polls = 0;
    while (parked_polls < 2000) {
        sp_case c = { .ch = blocked_park_ch, .dir = SP_RECV, .elem = &v, .ok = NULL };
        int chosen = sp_select(&c, 1, true);
        polls++;
        if (chosen == 0)
            break; /* the sender got here first: its value arrived */
        CHECK(io, chosen == 1);
        if (load(&io[2]))
            parked_polls++;
        sp_gosched();
    }
    if (v == 0)
        CHECK(io, sp_chan_recv(blocked_park_ch, &v, NULL) == SP_OK);
    store(&io[3], v);
    store(&io[4], polls);
    sp_chan_release(blocked_park_ch);
}
