/* A seeded random driver of the engine: each iteration turns a seed into a
   program of 3 to 8 goroutines on 1, 2 or 4 processors of the test harness,
   each running its own random sequence of sends, receives, selects (with
   and without a default, with a timer case, with the nil channel), sleeps,
   mutex-protected increments and channels it makes and releases, while one
   goroutine closes the shared channels at random points, racing the
   senders. The model checked:
     - every value sent is received exactly once, and a send refused (the
       channel closed, or released) is never received;
     - each sender's values come out of each channel in the order sent, and
       on the channel they were sent on;
     - a select performs one case: the others' elements are left alone, and
       the nil channel's case is never chosen;
     - after a close, a send fails with SP_ECLOSED, receives drain the
       buffer, then give the zero value with ok false, and keep doing so;
       a second close fails; a released channel is stale;
     - a timer case never fires early;
     - each mutex-protected counter equals the increments made under it;
     - the program ends (every goroutine can always finish: see generate).
   A failed check prints the iteration's seed; `test_fuzz SEED` runs that
   one program again. SPINDLE_TEST_FUZZ_ITERATIONS and SPINDLE_TEST_FUZZ_SEED
   change the count and the first seed (valgrind and emulators run fewer). */
#include "harness.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_G = 8,            /* goroutines */
    MAX_SHARED = 4,       /* channels every goroutine may use */
    MAX_TEMPS = 4,        /* channels each goroutine makes and releases */
    MAX_OPS = 48,
    MAX_CASES = 4,
    MUTEXES = 2,
    CHAN_IDS = 8 + MAX_G * MAX_TEMPS /* shared 0..3, temps from 8 */
};

/* ---- the seed's program ------------------------------------------------------ */

static uint64_t next_random(uint64_t *state) /* splitmix64 */
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int below(uint64_t *state, int n) { return (int)(next_random(state) % (uint64_t)n); }

enum op_kind { OP_SEND, OP_RECV, OP_SELECT, OP_SLEEP, OP_YIELD, OP_MUTEX, OP_TEMP_MAKE, OP_TEMP_DROP, OP_CLOSE, OP_LEN };
enum target_kind { T_SHARED, T_NIL, T_TEMP };
enum select_mode { SEL_BLOCK, SEL_DEFAULT, SEL_TIMEOUT };

typedef struct fcase {
    uint8_t target; /* T_* */
    uint8_t index;  /* T_SHARED: the channel; T_TEMP: the goroutine whose temp channel */
    uint8_t dir;    /* SP_SEND or SP_RECV */
} fcase;

typedef struct fop {
    uint8_t kind;
    uint8_t chan;     /* OP_SEND, OP_RECV, OP_CLOSE, OP_LEN: a shared channel; OP_MUTEX: which */
    uint8_t arg;      /* OP_TEMP_MAKE: capacity; OP_MUTEX: 1 to yield holding it; OP_CLOSE: the
                         percentage of the others' operations it waits for */
    uint8_t mode;     /* OP_SELECT: SEL_* */
    uint8_t ncases;
    int32_t micros;   /* OP_SLEEP: 0..2000 (0 yields); SEL_TIMEOUT: 0..1000 */
    fcase cases[MAX_CASES];
} fop;

typedef struct program {
    int procs, ngs, nshared, closer;
    int caps[MAX_SHARED];
    int nops[MAX_G];
    fop ops[MAX_G][MAX_OPS];
} program;

/* Every goroutine can always finish. Shared channels are all closed by the
   closer, which never waits on anything that another goroutine must do
   first (its selects have a default or a timer case, and before a close it
   waits for the others' progress a bounded time only), so plain sends and
   receives and selects that wait on a shared channel end at the latest
   when it closes. Temp channels are waited on only by selects that also
   have a default, a timer or a shared case, as their owners may wait on
   the others; an owner closes its temp channel before it releases it,
   which completes everyone parked on it. Mutexes are held over a yield at
   most. */
static void generate_select(uint64_t *r, fop *op, int g, int closer, int nshared, int ngs)
{
    op->kind = OP_SELECT;
    op->ncases = (uint8_t)(1 + below(r, MAX_CASES));
    op->mode = (uint8_t)below(r, 3);
    if (g == closer && op->mode == SEL_BLOCK)
        op->mode = SEL_TIMEOUT;
    op->micros = below(r, 1001);
    int shared = 0;
    for (int i = 0; i < op->ncases; i++) {
        fcase *c = &op->cases[i];
        int what = below(r, 8);
        c->dir = below(r, 2) ? SP_SEND : SP_RECV;
        if (what == 0) {
            c->target = T_NIL;
        } else if (what == 1) {
            c->target = T_TEMP;
            c->index = (uint8_t)below(r, ngs);
        } else {
            c->target = T_SHARED;
            c->index = (uint8_t)below(r, nshared);
            shared = 1;
        }
    }
    if (op->mode == SEL_BLOCK && !shared) { /* something it can wait for to the end */
        op->cases[0].target = T_SHARED;
        op->cases[0].index = (uint8_t)below(r, nshared);
    }
}

static void generate(program *p, uint64_t seed)
{
    uint64_t r = seed;
    memset(p, 0, sizeof *p);
    static const int procs[] = { 1, 2, 4 };
    p->procs = procs[below(&r, 3)];
    p->ngs = 3 + below(&r, MAX_G - 2);
    p->nshared = 1 + below(&r, MAX_SHARED);
    p->closer = below(&r, p->ngs);
    for (int c = 0; c < p->nshared; c++)
        p->caps[c] = below(&r, 5);
    for (int g = 0; g < p->ngs; g++) {
        int n = 8 + below(&r, MAX_OPS - 8 - MAX_SHARED - 1);
        int temp_live = 0, temps = 0, k = 0;
        for (int i = 0; i < n; i++) {
            fop *op = &p->ops[g][k++];
            int what = below(&r, 20);
            int plain = g != p->closer;
            if (what < 3 && plain) {
                op->kind = OP_SEND;
                op->chan = (uint8_t)below(&r, p->nshared);
            } else if (what < 6 && plain) {
                op->kind = OP_RECV;
                op->chan = (uint8_t)below(&r, p->nshared);
            } else if (what < 12) {
                generate_select(&r, op, g, p->closer, p->nshared, p->ngs);
            } else if (what < 14) {
                op->kind = OP_SLEEP;
                op->micros = below(&r, 3) == 0 ? 0 : below(&r, 2001);
            } else if (what < 15) {
                op->kind = OP_YIELD;
            } else if (what < 17) {
                op->kind = OP_MUTEX;
                op->chan = (uint8_t)below(&r, MUTEXES);
                op->arg = (uint8_t)below(&r, 2);
            } else if (what < 19 && !temp_live && temps < MAX_TEMPS) {
                op->kind = OP_TEMP_MAKE;
                op->arg = (uint8_t)below(&r, 5);
                temp_live = 1;
                temps++;
            } else if (what < 19 && temp_live) {
                op->kind = OP_TEMP_DROP;
                temp_live = 0;
            } else {
                op->kind = OP_LEN;
                op->chan = (uint8_t)below(&r, p->nshared);
            }
        }
        if (temp_live)
            p->ops[g][k++].kind = OP_TEMP_DROP;
        if (g == p->closer) {
            /* Each shared channel closed once, at a random point. */
            for (int c = 0; c < p->nshared; c++) {
                int at = below(&r, k + 1);
                memmove(&p->ops[g][at + 1], &p->ops[g][at], (size_t)(k - at) * sizeof(fop));
                p->ops[g][at] = (fop){ .kind = OP_CLOSE, .chan = (uint8_t)c, .arg = (uint8_t)below(&r, 101) };
                k++;
            }
        }
        p->nops[g] = k;
    }
}

/* ---- the run ------------------------------------------------------------------ */

/* A value: its sender (1..8), the channel it was sent on, and the sender's count. */
static int64_t make_value(int g, int chan_id, uint64_t count)
{
    return (int64_t)((uint64_t)(g + 1) << 56 | (uint64_t)chan_id << 48 | count);
}
static int value_sender(int64_t v) { return (int)((uint64_t)v >> 56) - 1; }
static int value_chan(int64_t v) { return (int)(((uint64_t)v >> 48) & 0xff); }
static uint64_t value_count(int64_t v) { return (uint64_t)v & 0xffffffffffffu; }

/* A sentinel an element holds until the engine writes it. */
#define UNTOUCHED ((int64_t)0x5a5a5a5a5a5a5a5a)

typedef struct temp_info {
    sp_chan handle;
    _Atomic int closed;
} temp_info;

typedef struct gstate {
    int g;
    uint64_t count;
    int64_t *sent, *received;
    int nsent, nreceived;
    int incs[MUTEXES];
    int refused, defaults, timeouts, stale; /* what happened, for the report line */
    uint64_t last[MAX_G + 1][CHAN_IDS];  /* FIFO: last count received per sender and channel */
    uint8_t known_closed[CHAN_IDS];      /* this goroutine knows it closed */
    uint8_t drained[CHAN_IDS];           /* it received ok false: closed and empty */
    int temp;                            /* its live temp channel (k + 1), or 0 */
    int seen_temp[MAX_G];                /* the last temp channel of each goroutine it used (k + 1) */
    int failures;
    char first[256];
} gstate;

static struct {
    const program *p;
    sp_chan shared[MAX_SHARED];
    _Atomic int closed[MAX_SHARED];      /* set by the closer once its close returned */
    sp_mutex mutexes[MUTEXES];
    int64_t counters[MUTEXES];           /* under mutexes[i] */
    sp_wg done;
    temp_info temps[MAX_G][MAX_TEMPS];   /* written before their slot names them */
    _Atomic int temp_slot[MAX_G];        /* the live temp channel (k + 1), or 0 */
    _Atomic int progress;                /* operations the goroutines have done */
    gstate gs[MAX_G + 1];                /* [MAX_G]: main */
} F;

static void fail(gstate *s, const char *fmt, ...)
{
    if (s->failures++ > 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->first, sizeof s->first, fmt, ap);
    va_end(ap);
}

static int temp_id(int owner, int k) { return 8 + owner * MAX_TEMPS + k; }

static int is_closed(gstate *s, int chan_id)
{
    if (s->known_closed[chan_id])
        return 1;
    if (chan_id < MAX_SHARED)
        return atomic_load_explicit(&F.closed[chan_id], memory_order_acquire);
    int owner = (chan_id - 8) / MAX_TEMPS, k = (chan_id - 8) % MAX_TEMPS;
    return atomic_load_explicit(&F.temps[owner][k].closed, memory_order_acquire);
}

static void note_sent(gstate *s, int64_t v) { s->sent[s->nsent++] = v; }

static void note_received(gstate *s, int chan_id, int64_t v, bool ok)
{
    if (!ok) {
        if (v != 0)
            fail(s, "g%d: a receive on channel %d gave ok false and %" PRIx64 ", not zero", s->g, chan_id, (uint64_t)v);
        s->drained[chan_id] = 1;
        s->known_closed[chan_id] = 1;
        return;
    }
    if (s->drained[chan_id])
        fail(s, "g%d: channel %d gave a value after it gave ok false", s->g, chan_id);
    int from = value_sender(v);
    if (from < 0 || from >= MAX_G || value_chan(v) != chan_id) {
        fail(s, "g%d: received %" PRIx64 " on channel %d: no value sent there", s->g, (uint64_t)v, chan_id);
        return;
    }
    if (value_count(v) <= s->last[from][chan_id])
        fail(s, "g%d: from g%d on channel %d, count %" PRIu64 " after %" PRIu64 " (FIFO)", s->g, from, chan_id,
             value_count(v), s->last[from][chan_id]);
    s->last[from][chan_id] = value_count(v);
    s->received[s->nreceived++] = v;
}

/* A send's result on a channel: whether it was known closed before decides
   what it may be. */
static void note_send_result(gstate *s, int chan_id, int64_t v, int rc, int closed_before)
{
    if (rc == SP_OK) {
        if (closed_before)
            fail(s, "g%d: a send on channel %d, closed before it, succeeded", s->g, chan_id);
        note_sent(s, v);
    } else if (rc == SP_ECLOSED) {
        s->known_closed[chan_id] = 1;
        s->refused++;
    } else {
        fail(s, "g%d: a send on channel %d gave %d", s->g, chan_id, rc);
    }
}

static void do_send(gstate *s, int c)
{
    int64_t v = make_value(s->g, c, ++s->count);
    int closed = is_closed(s, c);
    note_send_result(s, c, v, sp_chan_send(F.shared[c], &v), closed);
}

static void do_recv(gstate *s, int c)
{
    int64_t v = UNTOUCHED;
    bool ok = true;
    int rc = sp_chan_recv(F.shared[c], &v, &ok);
    if (rc != SP_OK)
        fail(s, "g%d: a receive on channel %d gave %d", s->g, c, rc);
    else
        note_received(s, c, v, ok);
}

static void do_select(gstate *s, const fop *op)
{
    sp_case cases[MAX_CASES + 1];
    int64_t elems[MAX_CASES + 1];
    bool oks[MAX_CASES + 1];
    int ids[MAX_CASES + 1], closed_before[MAX_CASES + 1];
    int n = op->ncases, sends = 0, others_temps = 0;
    for (int i = 0; i < n; i++) {
        const fcase *fc = &op->cases[i];
        sp_chan ch = 0;
        ids[i] = -1;
        if (fc->target == T_SHARED) {
            ch = F.shared[fc->index];
            ids[i] = fc->index;
        } else if (fc->target == T_TEMP) {
            /* The owner's live temp channel, or the last one used if it has
               none now (released, or soon to be: a stale handle). */
            int k = atomic_load_explicit(&F.temp_slot[fc->index], memory_order_acquire);
            if (k != 0)
                s->seen_temp[fc->index] = k;
            k = fc->index == s->g ? s->temp : s->seen_temp[fc->index];
            if (k != 0) { /* else the nil channel instead */
                ch = F.temps[fc->index][k - 1].handle;
                ids[i] = temp_id(fc->index, k - 1);
                others_temps |= fc->index != s->g;
            }
        }
        closed_before[i] = ids[i] >= 0 && is_closed(s, ids[i]);
        oks[i] = true;
        if (fc->dir == SP_SEND) {
            elems[i] = make_value(s->g, ids[i] >= 0 ? ids[i] : 0xff, ++s->count);
            sends++;
        } else {
            elems[i] = UNTOUCHED;
        }
        cases[i] = (sp_case){ ch, fc->dir, &elems[i], fc->dir == SP_RECV ? &oks[i] : NULL };
    }
    sp_chan timer = 0;
    int64_t start = 0;
    if (op->mode == SEL_TIMEOUT) {
        start = sp_clock_now();
        if (sp_after(&timer, (int64_t)op->micros * 1000) != SP_OK)
            fail(s, "g%d: sp_after failed", s->g);
        elems[n] = UNTOUCHED;
        oks[n] = true;
        cases[n] = (sp_case){ timer, SP_RECV, &elems[n], &oks[n] };
        ids[n] = -1;
    }
    int total = n + (op->mode == SEL_TIMEOUT);
    int rc = sp_select(cases, total, op->mode == SEL_DEFAULT);
    for (int i = 0; i < total; i++) /* one case performed: the others untouched */
        if (i != rc && cases[i].dir == SP_RECV && elems[i] != UNTOUCHED)
            fail(s, "g%d: a select wrote into case %d, not the one it chose (%d)", s->g, i, rc);
    if (rc >= 0 && rc < n) {
        if (cases[rc].ch == 0)
            fail(s, "g%d: a select chose a nil channel's case", s->g);
        else if (cases[rc].dir == SP_SEND)
            note_send_result(s, ids[rc], elems[rc], SP_OK, closed_before[rc]);
        else
            note_received(s, ids[rc], elems[rc], oks[rc]);
    } else if (rc == n && op->mode == SEL_TIMEOUT) {
        if (!oks[n] || elems[n] < start + (int64_t)op->micros * 1000)
            fail(s, "g%d: a timer of %d us fired early or empty", s->g, op->micros);
        s->timeouts++;
    } else if (rc == n && op->mode == SEL_DEFAULT) {
        s->defaults++; /* nothing was ready */
    } else if (rc == SP_ECLOSED) {
        if (sends == 0)
            fail(s, "g%d: SP_ECLOSED from a select that sends nothing", s->g);
        s->refused++;
    } else if (rc == SP_ESTALE && others_temps) {
        s->stale++;
    } else {
        fail(s, "g%d: a select of %d cases (mode %d) gave %d", s->g, total, op->mode, rc);
    }
    if (timer != 0 && sp_chan_release(timer) != SP_OK)
        fail(s, "g%d: a timer channel could not be released after its select", s->g);
}

static void do_mutex(gstate *s, const fop *op)
{
    int m = op->chan;
    if (sp_mutex_lock(F.mutexes[m]) != SP_OK) {
        fail(s, "g%d: sp_mutex_lock failed", s->g);
        return;
    }
    int64_t v = F.counters[m];
    if (op->arg)
        sp_gosched(); /* others run meanwhile: without the mutex, increments are lost */
    F.counters[m] = v + 1;
    s->incs[m]++;
    if (sp_mutex_unlock(F.mutexes[m]) != SP_OK)
        fail(s, "g%d: sp_mutex_unlock failed", s->g);
}

static void temp_make(gstate *s, int capacity)
{
    int k = 0;
    while (k < MAX_TEMPS && F.temps[s->g][k].handle != 0)
        k++;
    temp_info *t = &F.temps[s->g][k];
    if (sp_chan_make(&t->handle, sizeof(int64_t), (size_t)capacity) != SP_OK) {
        fail(s, "g%d: sp_chan_make failed", s->g);
        return;
    }
    s->temp = k + 1;
    atomic_store_explicit(&F.temp_slot[s->g], k + 1, memory_order_release);
}

/* Closes the temp channel, drains it, releases it: nothing it held is lost,
   and its handle is stale after. */
static void temp_drop(gstate *s)
{
    int k = s->temp - 1, id = temp_id(s->g, k);
    temp_info *t = &F.temps[s->g][k];
    s->temp = 0;
    if (sp_chan_close(t->handle) != SP_OK)
        fail(s, "g%d: closing its channel failed", s->g);
    atomic_store_explicit(&t->closed, 1, memory_order_release);
    s->known_closed[id] = 1;
    if (sp_chan_close(t->handle) != SP_ECLOSED)
        fail(s, "g%d: a second close did not give SP_ECLOSED", s->g);
    int64_t v = make_value(s->g, id, ++s->count);
    if (sp_chan_send(t->handle, &v) != SP_ECLOSED)
        fail(s, "g%d: a send on its closed channel did not give SP_ECLOSED", s->g);
    bool ok = true;
    do {
        v = UNTOUCHED;
        if (sp_chan_recv(t->handle, &v, &ok) != SP_OK) {
            fail(s, "g%d: draining its closed channel failed", s->g);
            break;
        }
        note_received(s, id, v, ok);
    } while (ok);
    atomic_store_explicit(&F.temp_slot[s->g], 0, memory_order_release);
    /* Closed, nobody waits on it (the close completed them all, and a
       select never parks on a closed channel). */
    int rc = sp_chan_release(t->handle);
    if (rc != SP_OK)
        fail(s, "g%d: releasing its closed channel gave %d", s->g, rc);
    if (sp_chan_send(t->handle, &v) != SP_ESTALE || sp_chan_recv(t->handle, &v, &ok) != SP_ESTALE)
        fail(s, "g%d: its released channel is not stale", s->g);
}

/* Closes a shared channel once the others made arg percent of their
   operations, or 3 ms have gone by waiting for it (they may all wait for
   this close): the closes land anywhere in their runs, not all at the start. */
static void do_close(gstate *s, int c, int percent)
{
    const program *p = F.p;
    int others = 0;
    for (int g = 0; g < p->ngs; g++)
        others += g != s->g ? p->nops[g] : 0;
    for (int polls = 0; polls < 30 && atomic_load(&F.progress) < others * percent / 100; polls++)
        sp_sleep(100 * 1000);
    if (sp_chan_close(F.shared[c]) != SP_OK)
        fail(s, "g%d: closing channel %d failed", s->g, c);
    atomic_store_explicit(&F.closed[c], 1, memory_order_release);
    s->known_closed[c] = 1;
}

static void do_len(gstate *s, int c)
{
    int len = sp_chan_len(F.shared[c]), cap = sp_chan_cap(F.shared[c]);
    if (cap != F.p->caps[c] || len < 0 || len > cap)
        fail(s, "g%d: channel %d has len %d, cap %d (made with %d)", s->g, c, len, cap, F.p->caps[c]);
}

static void fuzz_goroutine(void *arg)
{
    gstate *s = arg;
    const program *p = F.p;
    for (int i = 0; i < p->nops[s->g]; i++) {
        const fop *op = &p->ops[s->g][i];
        switch (op->kind) {
        case OP_SEND: do_send(s, op->chan); break;
        case OP_RECV: do_recv(s, op->chan); break;
        case OP_SELECT: do_select(s, op); break;
        case OP_SLEEP:
            if (sp_sleep((int64_t)op->micros * 1000) != SP_OK)
                fail(s, "g%d: sp_sleep failed", s->g);
            break;
        case OP_YIELD: sp_gosched(); break;
        case OP_MUTEX: do_mutex(s, op); break;
        case OP_TEMP_MAKE: temp_make(s, op->arg); break;
        case OP_TEMP_DROP:
            if (s->temp != 0) /* else its make failed (a check failed then) */
                temp_drop(s);
            break;
        case OP_CLOSE: do_close(s, op->chan, op->arg); break;
        case OP_LEN: do_len(s, op->chan); break;
        }
        atomic_fetch_add(&F.progress, 1);
    }
    sp_wg_done(F.done);
}

static void fuzz_main(void *arg)
{
    (void)arg;
    const program *p = F.p;
    gstate *m = &F.gs[MAX_G];
    for (int c = 0; c < p->nshared; c++)
        if (sp_chan_make(&F.shared[c], sizeof(int64_t), (size_t)p->caps[c]) != SP_OK)
            fail(m, "main: sp_chan_make failed");
    for (int i = 0; i < MUTEXES; i++)
        if (sp_mutex_make(&F.mutexes[i]) != SP_OK)
            fail(m, "main: sp_mutex_make failed");
    if (sp_wg_make(&F.done) != SP_OK || sp_wg_add(F.done, p->ngs) != SP_OK)
        fail(m, "main: the wait group failed");
    for (int g = 0; g < p->ngs; g++)
        if (sp_go(fuzz_goroutine, &F.gs[g]) != SP_OK)
            fail(m, "main: sp_go failed");
    sp_wg_wait(F.done);
    /* Everyone is done and every shared channel closed: what is left in them
       drains, then they are empty for good, then stale once released. */
    for (int c = 0; c < p->nshared; c++) {
        if (sp_chan_close(F.shared[c]) != SP_ECLOSED)
            fail(m, "main: channel %d was not closed, or closed twice", c);
        for (bool ok = true; ok;) {
            int64_t v = UNTOUCHED;
            if (sp_chan_recv(F.shared[c], &v, &ok) != SP_OK) {
                fail(m, "main: draining channel %d failed", c);
                break;
            }
            note_received(m, c, v, ok);
        }
        int64_t v = UNTOUCHED;
        bool ok = true;
        if (sp_chan_recv(F.shared[c], &v, &ok) != SP_OK || ok || v != 0)
            fail(m, "main: channel %d, closed and drained, gave a value", c);
        if (sp_chan_release(F.shared[c]) != SP_OK || sp_chan_send(F.shared[c], &v) != SP_ESTALE)
            fail(m, "main: channel %d could not be released, or is not stale after", c);
    }
    for (int i = 0; i < MUTEXES; i++) {
        int64_t incs = 0;
        for (int g = 0; g < p->ngs; g++)
            incs += F.gs[g].incs[i];
        if (F.counters[i] != incs)
            fail(m, "main: mutex %d's counter is %lld after %lld increments", i, (long long)F.counters[i],
                 (long long)incs);
        if (sp_mutex_release(F.mutexes[i]) != SP_OK)
            fail(m, "main: a mutex could not be released");
    }
    sp_wg_release(F.done);
}

static int compare_values(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Runs the program of seed; returns 0 when every check passed. */
static int run_seed(uint64_t seed)
{
    static program p;
    generate(&p, seed);
    int nvalues = MAX_OPS * (MAX_CASES + 1);
    memset(&F, 0, sizeof F);
    F.p = &p;
    for (int g = 0; g <= MAX_G; g++) {
        F.gs[g].g = g;
        F.gs[g].sent = calloc((size_t)nvalues, sizeof(int64_t));
        /* a goroutine receives at most once per op and per drained value */
        F.gs[g].received = calloc((size_t)nvalues * (MAX_G + 1), sizeof(int64_t));
    }
    /* The program first: should it never end, the seed is on the last line. */
    printf("seed %" PRIu64 ": goroutines %d, processors %d, channels %d: ", seed, p.ngs, p.procs, p.nshared);
    fflush(stdout);
    int harness = harness_run(fuzz_main, NULL, p.procs);

    int failures = harness != 0, nsent = 0, nreceived = 0, refused = 0, defaults = 0, timeouts = 0, stale = 0;
    const char *first = harness != 0 ? "the harness failed" : NULL;
    for (int g = 0; g <= MAX_G; g++) {
        failures += F.gs[g].failures;
        if (first == NULL && F.gs[g].failures > 0)
            first = F.gs[g].first;
        nsent += F.gs[g].nsent;
        nreceived += F.gs[g].nreceived;
        refused += F.gs[g].refused;
        defaults += F.gs[g].defaults;
        timeouts += F.gs[g].timeouts;
        stale += F.gs[g].stale;
    }
    /* Exactly once: the values received are the values sent. */
    int64_t *sent = calloc((size_t)nsent + 1, sizeof *sent), *received = calloc((size_t)nreceived + 1, sizeof *received);
    for (int g = 0, i = 0, j = 0; g <= MAX_G; g++) {
        memcpy(sent + i, F.gs[g].sent, (size_t)F.gs[g].nsent * sizeof *sent);
        memcpy(received + j, F.gs[g].received, (size_t)F.gs[g].nreceived * sizeof *received);
        i += F.gs[g].nsent;
        j += F.gs[g].nreceived;
    }
    qsort(sent, (size_t)nsent, sizeof *sent, compare_values);
    qsort(received, (size_t)nreceived, sizeof *received, compare_values);
    static char what[160];
    for (int i = 0, j = 0; harness == 0 && (i < nsent || j < nreceived);) {
        if (j > 0 && j < nreceived && received[j] == received[j - 1]) {
            snprintf(what, sizeof what, "%" PRIx64 " received twice", (uint64_t)received[j]);
        } else if (j >= nreceived || (i < nsent && sent[i] < received[j])) {
            snprintf(what, sizeof what, "%" PRIx64 " sent, never received (%d sent, %d received)", (uint64_t)sent[i],
                     nsent, nreceived);
        } else if (i >= nsent || received[j] < sent[i]) {
            snprintf(what, sizeof what, "%" PRIx64 " received, never sent", (uint64_t)received[j]);
        } else {
            i++;
            j++;
            continue;
        }
        failures++;
        if (first == NULL)
            first = what;
        break;
    }
    printf("%d sent, %d refused, %d defaults, %d timeouts, %d stale: %s\n", nsent, refused, defaults, timeouts, stale,
           failures == 0 ? "ok" : "FAILED");
    if (failures != 0)
        printf("  %d check(s) failed, the first: %s\n  replay: test_fuzz %" PRIu64 "\n", failures, first, seed);
    fflush(stdout);
    free(sent);
    free(received);
    for (int g = 0; g <= MAX_G; g++) {
        free(F.gs[g].sent);
        free(F.gs[g].received);
    }
    return failures != 0;
}

static uint64_t env_number(const char *name, uint64_t fallback)
{
    const char *s = getenv(name);
    return s != NULL && *s != 0 ? strtoull(s, NULL, 0) : fallback;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return run_seed(strtoull(argv[1], NULL, 0));
    uint64_t first = env_number("SPINDLE_TEST_FUZZ_SEED", 1);
    uint64_t iterations = env_number("SPINDLE_TEST_FUZZ_ITERATIONS", 1000);
    int failed = 0;
    for (uint64_t i = 0; i < iterations; i++)
        failed += run_seed(first + i);
    printf("%d of %" PRIu64 " programs failed (seeds %" PRIu64 " to %" PRIu64 ")\n", failed, iterations, first,
           first + iterations - 1);
    return failed != 0;
}
