/* The native goroutine side of `spindle versus` (src/Spindle.Cli/Versus): one main
   goroutine per measurement, each taking a versus_io that says how much to do and
   receives what was measured. They time themselves, so the runtime's start and stop
   are outside the figures. The same programs are written for managed goroutines,
   threads and Tasks in C#, and in Go (src/Spindle.Cli/Versus/go/versus.go). */
#define _GNU_SOURCE /* syscall(SYS_gettid) */
#include "goroutine_program.h"
#include "park_workload.h"
#include "channel_workloads.h"
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#if defined(__linux__)
#  include <sys/syscall.h>
#  include <unistd.h>
#endif

/* Mirrored by VersusIo in src/Spindle.Cli/Versus/NativeGoroutines.cs. */
typedef struct versus_io {
    int64_t n;        /* how many: rounds, goroutines, items, jobs, digits */
    int64_t p1, p2;   /* the measurement's other parameters */
    int64_t ns;       /* out: nanoseconds the timed part took */
    int64_t out1, out2, out3; /* out: what each measurement says below */
    int64_t *samples; /* in: room for n samples, when a measurement takes them */
    char *text;       /* in: room for a measurement's text */
} versus_io;

/* ---- yield: two goroutines yield to each other n times each (2n switches). */
static sp_wg yielders;

static void yielder(void *arg)
{
    int64_t rounds = (int64_t)(intptr_t)arg;
    for (int64_t i = 0; i < rounds; i++)
        sp_gosched();
    sp_wg_done(yielders);
}

EXPORT void versus_yield(void *arg)
{
    versus_io *io = arg;
    sp_wg_make(&yielders);
    sp_wg_add(yielders, 2);
    int64_t start = now_ns();
    sp_go(yielder, (void *)(intptr_t)io->n);
    sp_go(yielder, (void *)(intptr_t)io->n);
    sp_wg_wait(yielders);
    io->ns = now_ns() - start;
    sp_wg_release(yielders);
}

/* ---- pingpong: n round trips over two unbuffered channels; out1 the counter (n). */
EXPORT void versus_pingpong(void *arg)
{
    versus_io *io = arg;
    int64_t start = now_ns();
    io->out1 = wl_pingpong(io->n);
    io->ns = now_ns() - start;
}

/* ---- spawn: n goroutines that do nothing but say they are done, and the wait for
   all of them. */
static sp_wg spawned;

static void nothing(void *arg)
{
    (void)arg;
    sp_wg_done(spawned);
}

EXPORT void versus_spawn(void *arg)
{
    versus_io *io = arg;
    sp_wg_make(&spawned);
    int64_t start = now_ns();
    sp_wg_add(spawned, (int)io->n);
    for (int64_t i = 0; i < io->n; i++)
        sp_go(nothing, NULL);
    sp_wg_wait(spawned);
    io->ns = now_ns() - start;
    sp_wg_release(spawned);
}

/* ---- latency: n messages, each the time it was sent, alternate between two
   goroutines over two unbuffered channels, so each finds its receiver parked; the
   receiver stores how long the message took in samples[i]. */
static sp_chan to_partner, to_main;

static void latency_partner(void *arg)
{
    versus_io *io = arg;
    int64_t t;
    for (int64_t i = 0; i < io->n; i += 2) {
        sp_chan_recv(to_partner, &t, NULL);
        io->samples[i] = now_ns() - t;
        if (i + 1 >= io->n)
            break;
        t = now_ns();
        sp_chan_send(to_main, &t);
    }
}

EXPORT void versus_latency(void *arg)
{
    versus_io *io = arg;
    sp_chan_make(&to_partner, sizeof(int64_t), 0);
    sp_chan_make(&to_main, sizeof(int64_t), 0);
    sp_go(latency_partner, io);
    sp_sleep(1000000); /* the partner reaches its first receive */
    int64_t start = now_ns();
    for (int64_t i = 0; i < io->n; i += 2) {
        int64_t t = now_ns();
        sp_chan_send(to_partner, &t);
        if (i + 1 >= io->n)
            break;
        sp_chan_recv(to_main, &t, NULL);
        io->samples[i + 1] = now_ns() - t;
    }
    io->ns = now_ns() - start;
    sp_sleep(1000000); /* the partner stores its last sample and ends */
    sp_chan_release(to_partner);
    sp_chan_release(to_main);
}

/* ---- fanout: main sends 1..n through a channel of p2 slots to p1 workers, which sum
   what they receive and send their sums back; a wait group says when all have. out1
   the total (n (n + 1) / 2). */
typedef struct { sp_chan items, sums; sp_wg done; } fanout_state;

static void fanout_worker(void *arg)
{
    fanout_state *s = arg;
    int64_t v, sum = 0;
    bool ok;
    while (sp_chan_recv(s->items, &v, &ok) == SP_OK && ok)
        sum += v;
    sp_chan_send(s->sums, &sum);
    sp_wg_done(s->done);
}

EXPORT void versus_fanout(void *arg)
{
    versus_io *io = arg;
    static fanout_state s;
    sp_chan_make(&s.items, sizeof(int64_t), (size_t)io->p2);
    sp_chan_make(&s.sums, sizeof(int64_t), (size_t)io->p1);
    sp_wg_make(&s.done);
    int64_t start = now_ns();
    sp_wg_add(s.done, (int)io->p1);
    for (int64_t w = 0; w < io->p1; w++)
        sp_go(fanout_worker, &s);
    for (int64_t v = 1; v <= io->n; v++)
        sp_chan_send(s.items, &v);
    sp_chan_close(s.items);
    sp_wg_wait(s.done);
    int64_t total = 0, sum;
    for (int64_t w = 0; w < io->p1; w++) {
        sp_chan_recv(s.sums, &sum, NULL);
        total += sum;
    }
    io->ns = now_ns() - start;
    io->out1 = total;
    sp_chan_release(s.items);
    sp_chan_release(s.sums);
    sp_wg_release(s.done);
}

/* ---- cpu: n jobs, each p1 rounds of a 64-bit mixing function (xorshift and a
   multiply, each round depending on the last), yielding every p2 rounds as a
   cooperative job does. out1 the xor of the jobs' results, the same whatever runs
   them. */
static uint64_t mix(uint64_t x, int64_t rounds)
{
    for (int64_t i = 0; i < rounds; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x *= 0x2545F4914F6CDD1DULL;
    }
    return x;
}

typedef struct { int64_t rounds, chunk; _Atomic uint64_t result; sp_wg done; } cpu_state;
static cpu_state cpu;

static void cpu_job(void *arg)
{
    uint64_t x = (uint64_t)(intptr_t)arg;
    for (int64_t done = 0; done < cpu.rounds; done += cpu.chunk) {
        int64_t left = cpu.rounds - done;
        x = mix(x, left < cpu.chunk ? left : cpu.chunk);
        sp_gosched();
    }
    atomic_fetch_xor(&cpu.result, x);
    sp_wg_done(cpu.done);
}

EXPORT void versus_cpu(void *arg)
{
    versus_io *io = arg;
    cpu.rounds = io->p1;
    cpu.chunk = io->p2 > 0 ? io->p2 : io->p1;
    atomic_store(&cpu.result, 0);
    sp_wg_make(&cpu.done);
    int64_t start = now_ns();
    sp_wg_add(cpu.done, (int)io->n);
    for (int64_t j = 1; j <= io->n; j++)
        sp_go(cpu_job, (void *)(intptr_t)j);
    sp_wg_wait(cpu.done);
    io->ns = now_ns() - start;
    io->out1 = (int64_t)atomic_load(&cpu.result);
    sp_wg_release(cpu.done);
}

/* ---- interleave: the article's experiment (demo gomaxprocs). Two goroutines append
   n digits each, '0' and '1', to text, spending p1 ns on each digit and yielding
   every p2 digits. */
static char *line;
static _Atomic int64_t line_len;
static int64_t digits, work_ns, block;
static sp_wg writers;

static void writer(void *arg)
{
    char digit = (char)(intptr_t)arg;
    for (int64_t i = 1; i <= digits; i++) {
        int64_t end = now_ns() + work_ns;
        while (now_ns() < end)
            ;
        line[atomic_fetch_add(&line_len, 1)] = digit;
        if (i % block == 0)
            sp_gosched();
    }
    sp_wg_done(writers);
}

EXPORT void versus_interleave(void *arg)
{
    versus_io *io = arg;
    line = io->text;
    digits = io->n;
    work_ns = io->p1;
    block = io->p2;
    atomic_store(&line_len, 0);
    sp_wg_make(&writers);
    sp_wg_add(writers, 2);
    int64_t start = now_ns();
    sp_go(writer, (void *)(intptr_t)'0');
    sp_go(writer, (void *)(intptr_t)'1');
    sp_wg_wait(writers);
    io->ns = now_ns() - start;
    sp_wg_release(writers);
}

/* ---- park: n goroutines parked in a channel receive (park_workload.c). out1 the
   resident bytes they added, out2 how many woke when the channel closed, out3 the
   runtime calls that failed. */
EXPORT void versus_park(void *arg)
{
    versus_io *io = arg;
    wl_park_result r = { 0, 0, 0 };
    io->out3 = wl_park(io->n, &r);
    io->out1 = r.resident_parked - r.resident_before;
    io->out2 = r.woken;
}

/* ---- identity: a goroutine sleeps p1 ns at a time, at most n times, until it wakes on
   another OS thread than the one it started on. out1 the sleeps, out2 and out3 the
   thread ids before and after (0 where threads have no id to read). */
static int64_t thread_id(void)
{
#if defined(__linux__)
    return (int64_t)syscall(SYS_gettid);
#else
    return 0;
#endif
}

EXPORT void versus_identity(void *arg)
{
    versus_io *io = arg;
    int64_t first = thread_id(), now = first, parks = 0;
    int64_t start = now_ns();
    while (parks < io->n && now == first) {
        sp_sleep(io->p1);
        parks++;
        now = thread_id();
    }
    io->ns = now_ns() - start;
    io->out1 = parks;
    io->out2 = first;
    io->out3 = now;
}
