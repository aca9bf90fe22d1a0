/* Native goroutine programs for the channel, select, timer and mutex tests
   (tests/Spindle.Tests/ChannelNativeTests.cs). Each takes an int64_t array:
   inputs first, results after, as described above each program. Where a rule is
   checked, a failed check adds 1 to the program's error slot and records the line. */
#define _POSIX_C_SOURCE 200809L
#include "goroutine_program.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

/* io[0] counts failed checks, io[1] holds the line of the first. */
#define CHECK(io, cond) \
    do { if (!(cond)) { if ((io)[0]++ == 0) (io)[1] = __LINE__; } } while (0)

/* ---- rules of Go's channels, one after another. io[0] errors, io[1] first line */
static sp_chan rule_ch;
static _Atomic int send_returned;

static void lone_sender(void *p)
{
    int64_t *io = p;
    int64_t v = 42;
    CHECK(io, sp_chan_send(rule_ch, &v) == SP_OK);
    atomic_store(&send_returned, 1);
}

static void parked_receiver(void *p)
{
    int64_t *io = p;
    int64_t v = 77;
    bool ok = true;
    CHECK(io, sp_chan_recv(rule_ch, &v, &ok) == SP_OK);
    CHECK(io, !ok && v == 0); /* closed while parked: zero value, ok false */
}

static void parked_sender(void *p)
{
    int64_t *io = p;
    int64_t v = 5;
    CHECK(io, sp_chan_send(rule_ch, &v) == SP_ECLOSED);
}

EXPORT void tp_chan_rules(void *p)
{
    int64_t *io = p;
    int64_t v;
    bool ok;

    /* An unbuffered send completes only when a receiver takes the value. */
    atomic_store(&send_returned, 0);
    CHECK(io, sp_chan_make(&rule_ch, sizeof(int64_t), 0) == SP_OK);
    CHECK(io, sp_go(lone_sender, io) == SP_OK);
    sp_sleep(30 * 1000000);
    CHECK(io, atomic_load(&send_returned) == 0);
    CHECK(io, sp_chan_recv(rule_ch, &v, &ok) == SP_OK && ok && v == 42);
    for (int i = 0; i < 1000 && !atomic_load(&send_returned); i++)
        sp_sleep(1000000);
    CHECK(io, atomic_load(&send_returned) == 1);

    /* Buffered: FIFO, len and cap, a full buffer does not take more. */
    sp_chan b;
    CHECK(io, sp_chan_make(&b, sizeof(int64_t), 4) == SP_OK);
    for (int64_t i = 1; i <= 4; i++)
        CHECK(io, sp_chan_send(b, &i) == SP_OK);
    CHECK(io, sp_chan_len(b) == 4 && sp_chan_cap(b) == 4);
    int64_t extra = 5;
    sp_case full = { b, SP_SEND, &extra, NULL };
    CHECK(io, sp_select(&full, 1, true) == 1); /* default: it would block */
    for (int64_t i = 1; i <= 4; i++) {
        CHECK(io, sp_chan_recv(b, &v, &ok) == SP_OK && ok && v == i);
    }

    /* Close: the buffer drains, then zero with ok false, again and again. */
    v = 10;
    sp_chan_send(b, &v);
    v = 11;
    sp_chan_send(b, &v);
    CHECK(io, sp_chan_close(b) == SP_OK);
    CHECK(io, sp_chan_recv(b, &v, &ok) == SP_OK && ok && v == 10);
    CHECK(io, sp_chan_recv(b, &v, &ok) == SP_OK && ok && v == 11);
    v = 99;
    CHECK(io, sp_chan_recv(b, &v, &ok) == SP_OK && !ok && v == 0);
    CHECK(io, sp_chan_recv(b, &v, NULL) == SP_OK && v == 0);
    /* Send on closed and close of closed are errors; nothing is sent. */
    CHECK(io, sp_chan_send(b, &v) == SP_ECLOSED);
    CHECK(io, sp_chan_close(b) == SP_ECLOSED);
    CHECK(io, sp_chan_len(b) == 0);
    CHECK(io, sp_chan_release(b) == SP_OK);

    /* Close wakes parked receivers (zero, ok false) and parked senders (SP_ECLOSED). */
    CHECK(io, sp_chan_make(&rule_ch, sizeof(int64_t), 0) == SP_OK);
    for (int i = 0; i < 3; i++)
        sp_go(parked_receiver, io);
    sp_sleep(10 * 1000000);
    CHECK(io, sp_chan_release(rule_ch) == SP_ESTATE); /* they are parked on it */
    CHECK(io, sp_chan_close(rule_ch) == SP_OK);
    sp_sleep(10 * 1000000);
    CHECK(io, sp_chan_make(&rule_ch, sizeof(int64_t), 0) == SP_OK);
    for (int i = 0; i < 3; i++)
        sp_go(parked_sender, io);
    sp_sleep(10 * 1000000);
    CHECK(io, sp_chan_close(rule_ch) == SP_OK);
    sp_sleep(10 * 1000000);

    /* The nil channel: never ready in a select; len and cap 0. */
    int64_t w = 1;
    sp_case nils[2] = { { 0, SP_RECV, &v, &ok }, { 0, SP_SEND, &w, NULL } };
    CHECK(io, sp_select(nils, 2, true) == 2);
    CHECK(io, sp_chan_len(0) == 0 && sp_chan_cap(0) == 0);
}

/* ---- zero-size elements as signal channels. io[0] errors, io[1] first line */
static sp_chan done_signal;

static void signaller(void *p)
{
    (void)p;
    sp_chan_send(done_signal, NULL);
}

EXPORT void tp_signal_channels(void *p)
{
    int64_t *io = p;
    bool ok;
    CHECK(io, sp_chan_make(&done_signal, 0, 0) == SP_OK);
    for (int i = 0; i < 5; i++)
        CHECK(io, sp_go(signaller, NULL) == SP_OK);
    for (int i = 0; i < 5; i++)
        CHECK(io, sp_chan_recv(done_signal, NULL, &ok) == SP_OK && ok);
    sp_chan buffered;
    CHECK(io, sp_chan_make(&buffered, 0, 2) == SP_OK);
    CHECK(io, sp_chan_send(buffered, NULL) == SP_OK && sp_chan_send(buffered, NULL) == SP_OK);
    CHECK(io, sp_chan_len(buffered) == 2);
    sp_case full = { buffered, SP_SEND, NULL, NULL };
    CHECK(io, sp_select(&full, 1, true) == 1);
    CHECK(io, sp_chan_close(buffered) == SP_OK);
    CHECK(io, sp_chan_recv(buffered, NULL, &ok) == SP_OK && ok);
    CHECK(io, sp_chan_recv(buffered, NULL, &ok) == SP_OK && ok);
    CHECK(io, sp_chan_recv(buffered, NULL, &ok) == SP_OK && !ok);
    CHECK(io, sp_chan_close(done_signal) == SP_OK);
    CHECK(io, sp_chan_recv(done_signal, NULL, &ok) == SP_OK && !ok);
}

/* ---- FIFO under contention. io[2] senders, io[3] values each, io[4] receivers,
        io[5] capacity; results io[6] received, io[7] sum of values received */
typedef struct { int64_t *io; sp_chan ch; sp_wg wg; int64_t id; } party;

static void fifo_sender(void *p)
{
    party *s = p;
    for (int64_t seq = 1; seq <= s->io[3]; seq++) {
        int64_t msg[2] = { s->id, seq };
        CHECK(s->io, sp_chan_send(s->ch, msg) == SP_OK);
    }
    sp_wg_done(s->wg);
}

static void fifo_receiver(void *p)
{
    party *r = p;
    int64_t *last = calloc((size_t)r->io[2], sizeof *last);
    int64_t msg[2];
    bool ok;
    while (sp_chan_recv(r->ch, msg, &ok) == SP_OK && ok) {
        CHECK(r->io, msg[0] >= 0 && msg[0] < r->io[2]);
        CHECK(r->io, msg[1] > last[msg[0]]); /* each sender's values in order */
        last[msg[0]] = msg[1];
        atomic_fetch_add((_Atomic int64_t *)&r->io[6], 1);
        atomic_fetch_add((_Atomic int64_t *)&r->io[7], msg[1]);
    }
    free(last);
    sp_wg_done(r->wg);
}

EXPORT void tp_fifo_contention(void *p)
{
    int64_t *io = p;
    int64_t ns = io[2], nr = io[4];
    sp_chan ch;
    sp_wg senders, receivers;
    CHECK(io, sp_chan_make(&ch, 2 * sizeof(int64_t), (size_t)io[5]) == SP_OK);
    sp_wg_make(&senders);
    sp_wg_make(&receivers);
    sp_wg_add(senders, (int)ns);
    sp_wg_add(receivers, (int)nr);
    party *parties = calloc((size_t)(ns + nr), sizeof *parties);
    for (int64_t i = 0; i < ns + nr; i++) {
        parties[i] = (party){ io, ch, i < ns ? senders : receivers, i < ns ? i : i - ns };
        CHECK(io, sp_go(i < ns ? fifo_sender : fifo_receiver, &parties[i]) == SP_OK);
    }
    sp_wg_wait(senders);
    CHECK(io, sp_chan_close(ch) == SP_OK);
    sp_wg_wait(receivers);
    sp_chan_release(ch);
    free(parties);
}

/* ---- select fairness: two always-ready receive cases. io[2] rounds; results
        io[3] case 0 taken, io[4] case 1 taken */
EXPORT void tp_select_fairness(void *p)
{
    int64_t *io = p;
    sp_chan a, b;
    sp_chan_make(&a, sizeof(int64_t), 1);
    sp_chan_make(&b, sizeof(int64_t), 1);
    int64_t one = 1, got;
    sp_chan_send(a, &one);
    sp_chan_send(b, &one);
    sp_case cases[2] = { { a, SP_RECV, &got, NULL }, { b, SP_RECV, &got, NULL } };
    for (int64_t i = 0; i < io[2]; i++) {
        int chosen = sp_select(cases, 2, false);
        CHECK(io, chosen == 0 || chosen == 1);
        if (chosen < 0 || chosen > 1)
            return;
        io[3 + chosen]++;
        sp_chan_send(chosen == 0 ? a : b, &one); /* ready again */
    }
}

/* ---- the stress: producers send 1..K through select over an unbuffered and a
        buffered channel; consumers select over both and a timer, and set a channel
        to nil once it is closed. io[2] producers, io[3] values each, io[4] consumers;
        results io[5] received, io[6] sum, io[7] timeouts seen, io[8] defaults seen */
typedef struct { int64_t *io; sp_chan unbuf, buf; sp_wg wg; } stress_arg;

static void stress_producer(void *p)
{
    stress_arg *a = p;
    for (int64_t v = 1; v <= a->io[3]; v++) {
        sp_case cases[2] = { { a->unbuf, SP_SEND, &v, NULL }, { a->buf, SP_SEND, &v, NULL } };
        int chosen = sp_select(cases, 2, v % 7 == 0);
        if (chosen == 2) { /* default taken: send plainly instead */
            atomic_fetch_add((_Atomic int64_t *)&a->io[8], 1);
            chosen = sp_chan_send(a->buf, &v) == SP_OK ? 1 : -1;
        }
        CHECK(a->io, chosen == 0 || chosen == 1);
    }
    sp_wg_done(a->wg);
}

static void stress_consumer(void *p)
{
    stress_arg *a = p;
    sp_chan unbuf = a->unbuf, buf = a->buf;
    while (unbuf != 0 || buf != 0) {
        sp_chan timer;
        sp_after(&timer, 2 * 1000000);
        int64_t v = 0, t;
        bool ok = false;
        sp_case cases[3] = { { unbuf, SP_RECV, &v, &ok }, { buf, SP_RECV, &v, &ok }, { timer, SP_RECV, &t, NULL } };
        int chosen = sp_select(cases, 3, false);
        sp_chan_release(timer);
        if (chosen == 2) {
            atomic_fetch_add((_Atomic int64_t *)&a->io[7], 1);
            continue;
        }
        CHECK(a->io, chosen == 0 || chosen == 1);
        if (chosen < 0)
            break;
        if (!ok) { /* closed: never choose it again (Go's nil-channel idiom) */
            if (chosen == 0) unbuf = 0; else buf = 0;
            continue;
        }
        atomic_fetch_add((_Atomic int64_t *)&a->io[5], 1);
        atomic_fetch_add((_Atomic int64_t *)&a->io[6], v);
    }
    sp_wg_done(a->wg);
}

EXPORT void tp_stress(void *p)
{
    int64_t *io = p;
    stress_arg producers, consumers;
    sp_chan unbuf, buf;
    sp_chan_make(&unbuf, sizeof(int64_t), 0);
    sp_chan_make(&buf, sizeof(int64_t), 16);
    producers = (stress_arg){ io, unbuf, buf, 0 };
    consumers = producers;
    sp_wg_make(&producers.wg);
    sp_wg_make(&consumers.wg);
    sp_wg_add(producers.wg, (int)io[2]);
    sp_wg_add(consumers.wg, (int)io[4]);
    for (int64_t i = 0; i < io[2]; i++)
        CHECK(io, sp_go(stress_producer, &producers) == SP_OK);
    for (int64_t i = 0; i < io[4]; i++)
        CHECK(io, sp_go(stress_consumer, &consumers) == SP_OK);
    sp_wg_wait(producers.wg);
    CHECK(io, sp_chan_close(unbuf) == SP_OK);
    CHECK(io, sp_chan_close(buf) == SP_OK);
    sp_wg_wait(consumers.wg);
}

/* ---- timers: io[2] after ns; results io[3] timer case chosen (1/0), io[4] waited ns,
        io[5] ticks received, io[6] ticks not early (1/0), io[7] ticks after stop */
EXPORT void tp_timers(void *p)
{
    int64_t *io = p;
    sp_chan never, after;
    sp_chan_make(&never, sizeof(int64_t), 0);
    int64_t start = now_ns(), v, t = 0;
    CHECK(io, sp_after(&after, io[2]) == SP_OK);
    sp_case cases[2] = { { never, SP_RECV, &v, NULL }, { after, SP_RECV, &t, NULL } };
    io[3] = sp_select(cases, 2, false) == 1;
    io[4] = now_ns() - start;
    CHECK(io, t >= start + io[2]); /* the time it sent, monotonic */
    sp_chan_release(after);

    const int64_t period = 5 * 1000000;
    sp_chan ticker;
    start = now_ns(); /* before the ticker: its ticks count from when it is made */
    CHECK(io, sp_ticker_make(&ticker, period) == SP_OK);
    io[6] = 1;
    for (int i = 1; i <= 3; i++) {
        CHECK(io, sp_chan_recv(ticker, &t, NULL) == SP_OK);
        io[5]++;
        if (now_ns() - start < i * period)
            io[6] = 0;
    }
    CHECK(io, sp_ticker_stop(ticker) == SP_OK);
    sp_case late[1] = { { ticker, SP_RECV, &t, NULL } };
    sp_select(late, 1, true); /* at most one tick was already buffered: drop it */
    sp_sleep(4 * period);
    io[7] = sp_select(late, 1, true) == 0;
    CHECK(io, sp_ticker_stop(ticker) == SP_OK); /* stopping twice is harmless */
    CHECK(io, sp_ticker_stop(never) == SP_EINVAL);
    sp_chan_release(ticker);
    sp_chan_release(never);
}

/* ---- mutex: io[2] goroutines, io[3] increments each; results io[4] counter,
        io[5] most holders seen at once */
typedef struct { int64_t *io; sp_mutex mu; sp_wg wg; int64_t holders; } mutex_arg;

static void mutex_worker(void *p)
{
    mutex_arg *a = p;
    for (int64_t i = 0; i < a->io[3]; i++) {
        CHECK(a->io, sp_mutex_lock(a->mu) == SP_OK);
        int64_t h = ++a->holders;
        if (h > a->io[5])
            a->io[5] = h;
        int64_t c = a->io[4];
        sp_gosched(); /* others run meanwhile: without the mutex, increments are lost */
        a->io[4] = c + 1;
        a->holders--;
        CHECK(a->io, sp_mutex_unlock(a->mu) == SP_OK);
    }
    sp_wg_done(a->wg);
}

EXPORT void tp_mutex(void *p)
{
    int64_t *io = p;
    mutex_arg a = { io, 0, 0, 0 };
    CHECK(io, sp_mutex_make(&a.mu) == SP_OK);
    CHECK(io, sp_mutex_unlock(a.mu) == SP_ESTATE); /* unlock of unlocked */
    sp_wg_make(&a.wg);
    sp_wg_add(a.wg, (int)io[2]);
    for (int64_t i = 0; i < io[2]; i++)
        sp_go(mutex_worker, &a);
    sp_wg_wait(a.wg);
    CHECK(io, sp_mutex_lock(a.mu) == SP_OK);
    CHECK(io, sp_mutex_release(a.mu) == SP_ESTATE); /* locked */
    CHECK(io, sp_mutex_unlock(a.mu) == SP_OK);
    CHECK(io, sp_mutex_release(a.mu) == SP_OK);
    CHECK(io, sp_mutex_lock(a.mu) == SP_ESTALE);
}

/* ---- bad input: the codes, in order, into io[0 ...], then 12345 */
EXPORT void tp_chan_bad_input(void *p)
{
    int64_t *io = p;
    int k = 0;
    sp_chan ch = 0;
    int64_t v = 7;
    io[k++] = sp_chan_make(NULL, 8, 0);                         /* SP_EINVAL */
    io[k++] = sp_chan_make(&ch, 65536, 0);                      /* SP_EINVAL: element too large */
    io[k++] = sp_chan_make(&ch, 8, (size_t)1 << 40);            /* SP_EINVAL: absurd capacity */
    io[k++] = sp_chan_make(&ch, 8, (size_t)-1);                 /* SP_EINVAL: "negative" capacity */
    io[k++] = ch == 0;                                          /* 1: nothing was made */
    io[k++] = sp_chan_make(&ch, 8, 2);                          /* SP_OK */
    io[k++] = sp_chan_send(ch, NULL);                           /* SP_EINVAL */
    io[k++] = sp_chan_send(ch, &v);                             /* SP_OK */
    io[k++] = sp_select(NULL, 1, true);                         /* SP_EINVAL */
    io[k++] = sp_select(NULL, -1, true);                        /* SP_EINVAL */
    sp_case bad_dir = { ch, 3, &v, NULL };
    io[k++] = sp_select(&bad_dir, 1, true);                     /* SP_EINVAL */
    sp_case null_send = { ch, SP_SEND, NULL, NULL };
    io[k++] = sp_select(&null_send, 1, true);                   /* SP_EINVAL */
    v = 0;
    io[k++] = sp_chan_recv(ch, &v, NULL);                       /* SP_OK */
    io[k++] = v;                                                /* 7: the bad calls lost nothing */
    io[k++] = sp_chan_close(0);                                 /* SP_EINVAL: the nil channel */
    io[k++] = sp_chan_release(ch);                              /* SP_OK */
    io[k++] = sp_chan_send(ch, &v);                             /* SP_ESTALE */
    io[k++] = sp_chan_recv(ch, &v, NULL);                       /* SP_ESTALE */
    io[k++] = sp_chan_close(ch);                                /* SP_ESTALE */
    io[k++] = sp_chan_len(ch);                                  /* SP_ESTALE */
    io[k++] = sp_chan_release(ch);                              /* SP_ESTALE */
    sp_case stale = { ch, SP_RECV, &v, NULL };
    io[k++] = sp_select(&stale, 1, true);                       /* SP_ESTALE */
    io[k++] = sp_chan_send(12345, &v);                          /* SP_EINVAL: no channel's handle */
    io[k++] = sp_after(NULL, 1);                                /* SP_EINVAL */
    io[k++] = sp_ticker_make(&ch, 0);                           /* SP_EINVAL */
    io[k++] = sp_mutex_make(NULL);                              /* SP_EINVAL */
    io[k++] = sp_mutex_unlock(999);                             /* SP_EINVAL: no mutex's handle */
    io[k++] = 12345;
}

/* ---- the nil channel blocks forever: a deadlock with this goroutine in the dump */
EXPORT void tp_recv_nil_forever(void *p)
{
    (void)p;
    int64_t v;
    sp_chan_recv(0, &v, NULL);
}

/* ---- a main goroutine waiting on a channel nobody will send on: a deadlock */
EXPORT void tp_recv_forever(void *p)
{
    (void)p;
    sp_chan ch;
    int64_t v;
    sp_chan_make(&ch, sizeof v, 0);
    sp_chan_recv(ch, &v, NULL);
}

/* ---- native producers into a channel C# made: io[0] handle, io[1] producers,
        io[2] values each (1..K); io[3] errors */
static void handle_producer(void *p)
{
    int64_t *io = p;
    for (int64_t v = 1; v <= io[2]; v++)
        if (sp_chan_send((sp_chan)io[0], &v) != SP_OK)
            atomic_fetch_add((_Atomic int64_t *)&io[3], 1);
}

EXPORT void tp_produce_into(void *p)
{
    int64_t *io = p;
    for (int64_t i = 0; i < io[1]; i++)
        sp_go(handle_producer, io);
}

/* ---- allocation: an unbuffered ping-pong and a buffered producer/consumer. io[0]
        rounds; io[1] done; io[2] callback id run before the steady-state loops,
        io[3] callback id run after them (before the partner's exit) */
static sp_chan ping, pong, stream;
static int64_t rounds;

static void ponger(void *p)
{
    int64_t *io = p;
    int64_t v;
    /* Two runtime calls: the scheduler meets this goroutine (and makes its record's
       managed descriptor) now, not first when the run loop hands it over later. */
    sp_block_enter();
    sp_block_exit();
    for (int64_t i = 0; i < rounds; i++) {
        sp_chan_recv(ping, &v, NULL);
        sp_chan_send(pong, &v);
    }
    for (int64_t i = 0; i < rounds; i++)
        sp_chan_recv(stream, &v, NULL);
    atomic_fetch_add((_Atomic int64_t *)&io[1], 1);
}

enum { WARM_UP_ROUNDS = 2000 };

EXPORT void tp_chan_pingpong_measured(void *p)
{
    int64_t *io = p;
    int64_t v = 0, ignored;
    sp_chan_make(&ping, sizeof v, 0);
    sp_chan_make(&pong, sizeof v, 0);
    sp_chan_make(&stream, sizeof v, 64);
    rounds = io[0];
    sp_go(ponger, io);
    /* Warm up: pools, queues, JIT, and more switches than the run loop's budget,
       so that the scheduler has met both goroutines (its first look at a record
       makes the record's managed descriptor). */
    for (int i = 0; i < WARM_UP_ROUNDS; i++) {
        sp_chan_send(ping, &v);
        sp_chan_recv(pong, &v, NULL);
    }
    sp_call((int32_t)io[2], NULL, &ignored);
    for (int64_t i = WARM_UP_ROUNDS; i < rounds; i++) {
        sp_chan_send(ping, &i);
        sp_chan_recv(pong, &v, NULL);
    }
    for (int64_t i = 0; i < rounds; i++)
        sp_chan_send(stream, &i);
    sp_call((int32_t)io[3], NULL, &ignored);
    while (atomic_load((_Atomic int64_t *)&io[1]) == 0)
        sp_gosched();
}

/* ---- a select parked on several channels: the case that wins takes the others out of
        their queues; close wakes a select; two selects that each send and receive on one
        channel meet each other. io[0] errors, io[1] first line */
typedef struct { sp_chan a, b; int64_t value, got; bool ok; int chosen; sp_wg done; } select_arg;

static void select_two(void *p)
{
    select_arg *s = p;
    sp_case cases[2] = { { s->a, SP_RECV, &s->got, &s->ok }, { s->b, SP_RECV, &s->got, &s->ok } };
    s->chosen = sp_select(cases, 2, false);
    sp_wg_done(s->done);
}

static void send_or_receive(void *p)
{
    select_arg *s = p;
    sp_case cases[2] = { { s->a, SP_SEND, &s->value, NULL }, { s->a, SP_RECV, &s->got, &s->ok } };
    s->chosen = sp_select(cases, 2, false);
    sp_wg_done(s->done);
}

EXPORT void tp_select_parked(void *p)
{
    int64_t *io = p;
    select_arg s = { 0 };
    sp_wg_make(&s.done);

    sp_chan_make(&s.a, sizeof(int64_t), 0);
    sp_chan_make(&s.b, sizeof(int64_t), 0);
    sp_wg_add(s.done, 1);
    sp_go(select_two, &s);
    sp_sleep(10 * 1000000); /* parked on both */
    int64_t five = 5;
    CHECK(io, sp_chan_send(s.a, &five) == SP_OK);
    sp_wg_wait(s.done);
    CHECK(io, s.chosen == 0 && s.got == 5 && s.ok);
    CHECK(io, sp_chan_release(s.b) == SP_OK); /* its waiter was taken out of b's queue */
    CHECK(io, sp_chan_release(s.a) == SP_OK);

    sp_chan_make(&s.a, sizeof(int64_t), 0);
    sp_chan_make(&s.b, sizeof(int64_t), 0);
    s.got = 99;
    sp_wg_add(s.done, 1);
    sp_go(select_two, &s);
    sp_sleep(10 * 1000000);
    CHECK(io, sp_chan_close(s.b) == SP_OK);
    sp_wg_wait(s.done);
    CHECK(io, s.chosen == 1 && !s.ok && s.got == 0);
    CHECK(io, sp_chan_release(s.a) == SP_OK);
    CHECK(io, sp_chan_release(s.b) == SP_OK);

    select_arg x = { 0 }, y = { 0 };
    sp_chan_make(&x.a, sizeof(int64_t), 0);
    y.a = x.a;
    x.value = 1;
    y.value = 2;
    x.got = y.got = -1;
    x.done = y.done = s.done;
    sp_wg_add(s.done, 2);
    sp_go(send_or_receive, &x);
    sp_go(send_or_receive, &y);
    sp_wg_wait(s.done);
    CHECK(io, x.chosen + y.chosen == 1); /* one sent, the other received */
    CHECK(io, x.chosen == 1 ? x.got == 2 && x.ok : y.got == 1 && y.ok);
    CHECK(io, sp_chan_release(x.a) == SP_OK);
    sp_wg_release(s.done);
}

/* ---- the fast path: a ping-pong of io[2] round trips between two native
        goroutines; results io[3] the last value back, io[4] done. io[0]/io[1]
        errors (CHECK). */
static sp_chan fast_ping, fast_pong;

static void fast_ponger(void *p)
{
    int64_t *io = p;
    int64_t v;
    for (int64_t i = 0; i < io[2]; i++) {
        CHECK(io, sp_chan_recv(fast_ping, &v, NULL) == SP_OK);
        v++;
        CHECK(io, sp_chan_send(fast_pong, &v) == SP_OK);
    }
}

EXPORT void tp_fast_pingpong(void *p)
{
    int64_t *io = p;
    int64_t v = 0;
    CHECK(io, sp_chan_make(&fast_ping, sizeof v, 0) == SP_OK);
    CHECK(io, sp_chan_make(&fast_pong, sizeof v, 0) == SP_OK);
    sp_go(fast_ponger, io);
    for (int64_t i = 0; i < io[2]; i++) {
        CHECK(io, sp_chan_send(fast_ping, &v) == SP_OK);
        CHECK(io, sp_chan_recv(fast_pong, &v, NULL) == SP_OK);
    }
    io[3] = v;
    sp_chan_release(fast_ping);
    sp_chan_release(fast_pong);
    io[4] = 1;
}

/* ---- native goroutines parked without a runtime call, completed from C#:
        io[2] a channel this program made, on which a goroutine receives (value
        into io[4], ok into io[5]); io[3] an unbuffered channel on which another
        sends 99 (its result into io[6]); io[7] counts finished goroutines. */
static void csharp_completes_recv(void *p)
{
    int64_t *io = p;
    int64_t v = -1;
    bool ok = true;
    CHECK(io, sp_chan_recv((sp_chan)io[2], &v, &ok) == SP_OK);
    io[4] = v;
    io[5] = ok;
    atomic_fetch_add((_Atomic int64_t *)&io[7], 1);
}

static void csharp_completes_send(void *p)
{
    int64_t *io = p;
    int64_t v = 99;
    io[6] = sp_chan_send((sp_chan)io[3], &v);
    atomic_fetch_add((_Atomic int64_t *)&io[7], 1);
}

EXPORT void tp_park_for_csharp(void *p)
{
    int64_t *io = p;
    sp_chan a, b;
    CHECK(io, sp_chan_make(&a, sizeof(int64_t), 0) == SP_OK);
    CHECK(io, sp_chan_make(&b, sizeof(int64_t), 0) == SP_OK);
    sp_go(csharp_completes_recv, io);
    sp_go(csharp_completes_send, io);
    io[3] = (int64_t)b;
    atomic_store((_Atomic int64_t *)&io[2], (int64_t)a); /* last: C# waits for it */
}

/* ---- a goroutine left parked when main returns must leave no waiter behind:
        io[2] a buffered channel (capacity 1) C# made, on which a goroutine
        receives and stays parked; io[5] a channel this program makes and
        leaves unreleased (its runtime releases it when it stops).
        tp_send_then_receive (a later runtime) sends io[3] on io[2] and
        receives it back into io[4]. */
static void stays_parked(void *p)
{
    int64_t *io = p;
    int64_t v;
    sp_chan_recv((sp_chan)io[2], &v, NULL);
    io[4] = -1; /* never */
}

EXPORT void tp_leave_parked(void *p)
{
    int64_t *io = p;
    sp_chan own;
    CHECK(io, sp_chan_make(&own, sizeof(int64_t), 1) == SP_OK);
    io[5] = (int64_t)own;
    sp_go(stays_parked, io);
    CHECK(io, sp_sleep(5 * 1000 * 1000) == SP_OK); /* the receiver parks meanwhile */
}

EXPORT void tp_send_then_receive(void *p)
{
    int64_t *io = p;
    int64_t v = io[3], back = 0;
    CHECK(io, sp_chan_send((sp_chan)io[2], &v) == SP_OK);
    CHECK(io, sp_chan_recv((sp_chan)io[2], &back, NULL) == SP_OK);
    io[4] = back;
}

/* ---- the fast path on a processor the monitor has taken: io[2] rounds; main
        spins io[3] ns without a runtime call (the monitor takes its P), then
        sends the round on an unbuffered channel to a parked partner and
        receives it back plus one; results io[4] rounds completed. io[0]/io[1]
        errors (CHECK). */
static sp_chan hog_ping, hog_pong;

static void hog_partner(void *p)
{
    int64_t *io = p;
    int64_t v;
    for (int64_t i = 0; i < io[2]; i++) {
        CHECK(io, sp_chan_recv(hog_ping, &v, NULL) == SP_OK);
        v++;
        CHECK(io, sp_chan_send(hog_pong, &v) == SP_OK);
    }
}

EXPORT void tp_hog_then_channel(void *p)
{
    int64_t *io = p;
    CHECK(io, sp_chan_make(&hog_ping, sizeof(int64_t), 0) == SP_OK);
    CHECK(io, sp_chan_make(&hog_pong, sizeof(int64_t), 0) == SP_OK);
    sp_go(hog_partner, io);
    for (int64_t i = 0; i < io[2]; i++) {
        int64_t until = now_ns() + io[3];
        while (now_ns() < until) {
        }
        int64_t v = i, back = -1;
        CHECK(io, sp_chan_send(hog_ping, &v) == SP_OK);
        CHECK(io, sp_chan_recv(hog_pong, &back, NULL) == SP_OK);
        CHECK(io, back == i + 1);
        io[4]++;
    }
}
