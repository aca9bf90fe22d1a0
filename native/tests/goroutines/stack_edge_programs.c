/* Every goroutine call made at the worst place split-stack code can make it
   (tests/Spindle.Tests/SegmentedStackTests.cs runs it in a child process,
   traced and not). A split-stack function whose frame is under 256 bytes
   only checks that the stack pointer is at or above its segment's limit on
   entry, and then runs its frame below the limit; a goroutine call made from
   there runs libspindle, which is not split-stack code, further below. All of
   that must fit the reserve between a segment's limit and its header, or it
   writes over the header and under the segment (it crashed the process
   before the reserve was sized to it).

   tp_calls_at_the_limit(io): io[0] failed checks, io[1] the line of the
   first; io[2] calls made below the limit; io[3] the deepest any wrote, in
   bytes below the limit; io[4] rounds (each makes every call from several
   depths); io[6 + k] the deepest call k wrote (k: OP_RECV ... in the order
   of the enum below). tp_calls_at_the_limit_main, for `spindle run
   --entry`, runs SPINDLE_EDGE_ROUNDS rounds (3 without it) and prints what
   io holds. */
#include "goroutine_program.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(io, cond) \
    do { if (!(cond)) { if ((io)[0]++ == 0) (io)[1] = __LINE__; } } while (0)

#if defined(__x86_64__) && defined(__linux__)

enum { OP_RECV, OP_SEND, OP_SELECT, OP_SLEEP, OP_LOCK, OP_WAIT, OP_GO, OP_YIELD, OP_AFTER, OP_COUNT };
enum { YIELDS = 200 };
_Static_assert(OP_COUNT == 9, "report() names nine calls");

typedef struct edge {
    int64_t *io;
    sp_chan ch, other;
    sp_mutex mu;
    sp_wg wg;
    _Atomic int helper_ready, yields_done;
} edge;

/* The split-stack limit of the running segment (glibc's TCB slot). */
static inline uintptr_t limit_now(void)
{
    uintptr_t limit;
    __asm__ volatile("movq %%fs:0x70, %0" : "=r"(limit));
    return limit;
}

static void nothing(void *p) { (void)p; }

/* The other side of each call that parks: it acts after main has parked. */
static void helper(void *p)
{
    edge *e = p;
    int op = (int)e->io[5];
    int64_t v = 7;
    if (op == OP_LOCK)
        CHECK(e->io, sp_mutex_lock(e->mu) == SP_OK);
    atomic_store(&e->helper_ready, 1);
    for (int i = 0; i < 3; i++)
        sp_gosched();
    switch (op) {
    case OP_YIELD: /* the other side of main's yields, until they are done */
        while (!atomic_load(&e->yields_done))
            sp_gosched();
        break;
    case OP_RECV: CHECK(e->io, sp_chan_send(e->ch, &v) == SP_OK); break;
    case OP_SEND: CHECK(e->io, sp_chan_recv(e->ch, &v, NULL) == SP_OK && v == 8); break;
    case OP_SELECT: CHECK(e->io, sp_chan_send(e->other, &v) == SP_OK); break;
    case OP_LOCK: CHECK(e->io, sp_mutex_unlock(e->mu) == SP_OK); break;
    case OP_WAIT: CHECK(e->io, sp_wg_done(e->wg) == SP_OK); break;
    default: break;
    }
}

/* One call, inlined into at_limit's frame. */
static inline __attribute__((always_inline)) void call(edge *e, int op)
{
    int64_t *io = e->io;
    int64_t v = 8, got = 0;
    bool ok = false;
    switch (op) {
    case OP_RECV: CHECK(io, sp_chan_recv(e->ch, &got, &ok) == SP_OK && ok && got == 7); break;
    case OP_SEND: CHECK(io, sp_chan_send(e->ch, &v) == SP_OK); break;
    case OP_SELECT: {
        sp_case cases[2] = { { e->ch, SP_RECV, &got, &ok }, { e->other, SP_RECV, &got, &ok } };
        CHECK(io, sp_select(cases, 2, false) == 1 && got == 7);
        break;
    }
    case OP_SLEEP: CHECK(io, sp_sleep(100000) == SP_OK); break;
    case OP_LOCK: CHECK(io, sp_mutex_lock(e->mu) == SP_OK && sp_mutex_unlock(e->mu) == SP_OK); break;
    case OP_WAIT: CHECK(io, sp_wg_wait(e->wg) == SP_OK); break;
    case OP_GO: CHECK(io, sp_go(nothing, NULL) == SP_OK); break;
    case OP_YIELD:
        /* Many switches, each written where main lands: traced, some fill a
           batch and hand it over from down here. */
        for (int i = 0; i < YIELDS; i++)
            CHECK(io, sp_gosched() == SP_OK);
        atomic_store(&e->yields_done, 1);
        break;
    case OP_AFTER: {
        sp_chan timer = 0;
        CHECK(io, sp_after(&timer, 100000) == SP_OK);
        CHECK(io, sp_chan_recv(timer, &got, &ok) == SP_OK && ok);
        CHECK(io, sp_chan_release(timer) == SP_OK);
        break;
    }
    default: break;
    }
}

enum { PAINTED = 0xa5 };

/* Entered at or just above the limit; its frame, under 256 bytes, runs below
   it. The reserve under the call is painted first, so that what the call
   wrote shows afterwards: the deepest byte below the limit it reached (past
   the reserve, the segment's canary turns it into a fatal error). */
static __attribute__((noinline)) void at_limit(edge *e, int op)
{
    volatile char frame[64];
    frame[0] = (char)op;
    uintptr_t limit = limit_now(), sp;
    __asm__ volatile("movq %%rsp, %0" : "=r"(sp));
    /* From 128 bytes under the stack pointer (the red zone) down to the
       reserve's end. */
    volatile unsigned char *low = (volatile unsigned char *)(limit - SP_SEGMENT_RESERVE);
    volatile unsigned char *high = (volatile unsigned char *)(sp - 128);
    for (volatile unsigned char *b = low; b < high; b++)
        *b = PAINTED;
    call(e, op);
    volatile unsigned char *reached = low;
    while (reached < high && *reached == PAINTED)
        reached++;
    if (sp < limit) {
        e->io[2]++;
        int64_t deepest = (int64_t)(limit - (uintptr_t)reached);
        if (deepest > e->io[3])
            e->io[3] = deepest;
        if (deepest > e->io[6 + op])
            e->io[6 + op] = deepest;
    }
    CHECK(e->io, frame[0] == (char)op);
}

/* Recurses in small frames until the stack pointer is within slack bytes
   above the limit, then calls at_limit from there. */
static __attribute__((noinline)) void descend(edge *e, int op, uintptr_t slack, int depth)
{
    volatile char pad[8];
    pad[0] = 1;
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    uintptr_t limit = limit_now();
    if ((here >= limit && here - limit < slack) || depth > 4000) {
        at_limit(e, op);
        return;
    }
    descend(e, op, slack, depth + 1);
    CHECK(e->io, pad[0] == 1);
}

EXPORT void tp_calls_at_the_limit(void *p)
{
    int64_t *io = p;
    edge e = { .io = io };
    CHECK(io, sp_chan_make(&e.ch, sizeof(int64_t), 0) == SP_OK);
    CHECK(io, sp_chan_make(&e.other, sizeof(int64_t), 0) == SP_OK);
    CHECK(io, sp_mutex_make(&e.mu) == SP_OK);
    CHECK(io, sp_wg_make(&e.wg) == SP_OK);
    for (int64_t round = 0; round < io[4]; round++) {
        for (int op = 0; op < OP_COUNT; op++) {
            for (uintptr_t slack = 48; slack <= 112; slack += 8) {
                io[5] = op;
                atomic_store(&e.helper_ready, 0);
                atomic_store(&e.yields_done, 0);
                if (op == OP_WAIT)
                    CHECK(io, sp_wg_add(e.wg, 1) == SP_OK);
                CHECK(io, sp_go(helper, &e) == SP_OK);
                while (!atomic_load(&e.helper_ready))
                    sp_gosched();
                descend(&e, op, slack, 0);
                for (int i = 0; i < 8; i++) /* the helper ends */
                    sp_gosched();
            }
        }
    }
}

#else

/* No segments here: every goroutine runs on a reserved stack. */
EXPORT void tp_calls_at_the_limit(void *p)
{
    int64_t *io = p;
    io[2] = 0;
}

#endif

static __attribute__((noinline)) void report(const int64_t *io)
{
    static const char *const names[] = { "recv", "send", "select", "sleep", "lock", "wait", "go", "yield", "after" };
    printf("%lld calls below the limit wrote at most %lld bytes under it (", (long long)io[2], (long long)io[3]);
    for (int k = 0; k < 9; k++)
        printf("%s%s %lld", k ? ", " : "", names[k], (long long)io[6 + k]);
    printf("); %lld failed checks (line %lld)\n", (long long)io[0], (long long)io[1]);
}

EXPORT void tp_calls_at_the_limit_main(void *unused)
{
    (void)unused;
    static int64_t io[6 + 9];
    const char *rounds = getenv("SPINDLE_EDGE_ROUNDS");
    io[4] = rounds != NULL ? atoi(rounds) : 3;
    tp_calls_at_the_limit(io);
    report(io);
}
