/* The switch tracer (trace.h explains the design; spindle_host.h the
   record format and the host's calls). */
#include "trace.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(sp_trace_record) == 32 && sizeof(sp_trace_parts) == 32, "records are 32 bytes");
_Static_assert(sizeof(sp_trace_batch) <= SP_TRACE_BATCH_HEADER, "a batch's header fits before its bytes");

#if defined(_WIN32)
#  include <windows.h>
#elif defined(__linux__)
#  include <sys/mman.h>
#  include <sys/syscall.h>
#  include <unistd.h>
#endif

/* Stages of the switch a thread has in flight. */
enum {
    STAGE_NONE = 0,    /* nothing in flight (a goroutine runs, or the thread is idle) */
    STAGE_LEFT,        /* a goroutine left: t_leave */
    STAGE_IN_LOOP,     /* back on the thread's stack: t_loop */
    STAGE_DECIDED,     /* the loop returns to the host: t_decided */
    STAGE_HOST,        /* the host has control: t_host_in */
    STAGE_HOST_DONE,   /* the host calls the loop again: t_host_out */
    STAGE_NATIVE_IN,   /* the loop is entered: t_native_in */
    STAGE_RESUMING,    /* the next goroutine is being resumed: t_resume */
    STAGE_IDLE         /* the thread had nothing to run; the next switch starts from none */
};

typedef struct trace_thread {
    /* 1 while the owner writes into cur: who stops the trace waits for 0. */
    _Atomic int32_t writing;
    uint32_t id;
    sp_trace_batch *cur;
    /* Where cur's next record goes, and how far one whole record may go
       (NULL, NULL without a batch). */
    uint8_t *pos, *limit;
    uint64_t last_ticks;        /* the ticks of cur's last record: the next one's are a delta */
    _Atomic uint64_t records;   /* written by the owner alone; summed when the counts are read */
    uint64_t dropped;           /* records lost since cur was taken (owner) */
    int32_t processor;
    int32_t in_use;
    int32_t scratch; /* the overhead measurement's: writes without a trace running, never publishes */
    /* The switch in flight (owner only). */
    int32_t stage;
    int32_t why, wait_reason;
    int32_t via_host, via_loop, from_idle, timed_resume;
    /* The switch in flight is not timed (its leave read no counter), and
       the block record its goroutine owes, written at the switch's first
       stamp (flush_block). */
    int32_t untimed, block_pending;
    uint32_t until_timed, rng; /* leaves until the next timed one; its chooser */
    int64_t from, to, object, block_object;
    uint64_t t_leave, t_loop, t_decided, t_host_in, t_host_out, t_native_in, t_resume;
    struct trace_thread *next;
} trace_thread;

int32_t sp_trace_active;

/* A trace's life. Start, stop and release each move it under the lock, and do
   their slow part (measuring the counter, waiting for writers) in a phase of
   their own, so that two callers never run one of them at once, nor a release
   under a start or a stop still using the batches. */
enum { TRACE_IDLE, TRACE_STARTING, TRACE_ACTIVE, TRACE_STOPPING, TRACE_STOPPED };

static struct {
    sp_lock lock; /* the pool, the published list, the threads' registry, starting and stopping */
    int32_t phase; /* TRACE_IDLE ... TRACE_STOPPED: one caller moves it at a time */
    int32_t flight;
    void *memory;
    int64_t batches, buffer_bytes;
    sp_trace_batch *free_list;
    sp_trace_batch *full_head, *full_tail;
    int64_t full_count;
    uint64_t next_seq;
    trace_thread *threads;
    uint32_t next_thread_id;
    uint64_t origin_ticks;
    int64_t origin_ns;
    _Atomic uint64_t ticks_per_second;
    _Atomic uint64_t dropped, overwritten, published, no_thread;
    uint64_t stamp_ticks; /* what one traced switch costs the switch path, measured at start */
} tr;

static SP_THREAD_LOCAL trace_thread *tls_trace;

#if defined(_WIN32)
uint64_t sp_trace_ticks_windows(void)
{
    LARGE_INTEGER t;
    QueryPerformanceCounter(&t);
    return (uint64_t)t.QuadPart;
}
#endif

uint64_t sp_trace_now(void) { return sp_trace_ticks(); }

#if SPINDLE_TRACE
/* ---- the clock's rate ---------------------------------------------------------- */

/* The counter's nominal rate where the processor or the system says it, else 0. */
static uint64_t nominal_rate(void)
{
#if defined(_WIN32)
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    return (uint64_t)f.QuadPart;
#elif defined(__aarch64__)
    uint64_t f;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
    return f;
#else
    return 0;
#endif
}

/* A first estimate of the rate against the monotonic clock, over
   RATE_WINDOW_NS (the rate is refined on every batch published, over the
   whole trace). */
enum { RATE_WINDOW_NS = 2 * 1000 * 1000 };
static uint64_t measure_rate(void)
{
    int64_t n0 = sp_clock_now();
    uint64_t t0 = sp_trace_ticks();
    int64_t n1;
    do
        n1 = sp_clock_now();
    while (n1 - n0 < RATE_WINDOW_NS);
    uint64_t t1 = sp_trace_ticks();
    return (uint64_t)((double)(t1 - t0) * 1e9 / (double)(n1 - n0));
}

/* Refines the rate from the origin to now (under tr.lock). */
static void refine_rate(void)
{
    int64_t ns = sp_clock_now();
    uint64_t ticks = sp_trace_ticks();
    if (ns - tr.origin_ns < 20000000 || ticks <= tr.origin_ticks)
        return; /* too short a span to beat the first estimate */
    uint64_t rate = (uint64_t)((double)(ticks - tr.origin_ticks) * 1e9 / (double)(ns - tr.origin_ns));
    atomic_store_explicit(&tr.ticks_per_second, rate, memory_order_relaxed);
}

/* ---- a process-wide barrier ---------------------------------------------------- */

/* Every thread of the process executes a full barrier before this returns.
   A writer raises its writing flag with a plain store and then reads
   sp_trace_active with a plain load, so the stopper, after clearing
   sp_trace_active, issues this and reads each writer's flag: either the
   writer saw the trace stopped, or the stopper sees it writing (the run
   loop's handshake with the monitor is the same, run_loop.c). */
static void process_barrier(void)
{
#if defined(_WIN32)
    FlushProcessWriteBuffers();
#elif defined(__linux__)
    /* membarrier(MEMBARRIER_CMD_GLOBAL) where the kernel has it; else a
       page's protection changed, which makes the kernel interrupt every
       processor running a thread of the process (as CoreCLR does). */
#  if defined(SYS_membarrier)
    if (syscall(SYS_membarrier, 1 /* MEMBARRIER_CMD_GLOBAL */, 0, 0) == 0)
        return;
#  endif
    static char *page;
    if (page == NULL)
        page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED && page != NULL) {
        mprotect(page, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE);
        __atomic_add_fetch(page, 1, __ATOMIC_SEQ_CST);
        mprotect(page, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE);
    }
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

#endif

/* ---- batches ------------------------------------------------------------------- */

static sp_trace_batch *pop_free(void)
{
    sp_trace_batch *b = tr.free_list;
    if (b != NULL)
        tr.free_list = b->next;
    return b;
}

static void push_free(sp_trace_batch *b)
{
    b->next = tr.free_list;
    tr.free_list = b;
}

/* A batch for t to fill, or NULL: none free (its records are dropped). In
   flight-recorder mode the oldest published batch is reused. */
static sp_trace_batch *obtain(trace_thread *t)
{
    sp_lock_acquire(&tr.lock);
    sp_trace_batch *b = pop_free();
    if (b == NULL && tr.flight && tr.full_head != NULL) {
        b = tr.full_head;
        tr.full_head = b->next;
        if (tr.full_head == NULL)
            tr.full_tail = NULL;
        tr.full_count--;
        atomic_fetch_add_explicit(&tr.overwritten, 1, memory_order_relaxed);
    }
    sp_lock_release(&tr.lock);
    if (b != NULL) {
        b->count = 0;
        b->thread = t->id;
        b->dropped_before = t->dropped;
        t->dropped = 0;
        b->next = NULL;
    }
    return b;
}

/* Numbers b and appends it to the published list (b holds records). */
static void publish(sp_trace_batch *b)
{
    sp_lock_acquire(&tr.lock);
#if SPINDLE_TRACE
    refine_rate();
#endif
    b->seq = ++tr.next_seq;
    b->origin_ticks = tr.origin_ticks;
    b->origin_ns = tr.origin_ns;
    b->ticks_per_second = atomic_load_explicit(&tr.ticks_per_second, memory_order_relaxed);
    b->next = NULL;
    if (tr.full_tail != NULL)
        tr.full_tail->next = b;
    else
        tr.full_head = b;
    tr.full_tail = b;
    tr.full_count++;
    sp_lock_release(&tr.lock);
    atomic_fetch_add_explicit(&tr.published, 1, memory_order_relaxed);
}

/* ---- the compact form ------------------------------------------------------------ */

/* A batch's bytes, record after record (sp_trace_decode reads them back):
 *
 *   kind, why, wait_reason, flags      one byte each
 *   ticks                              zigzag varint: the delta from the
 *                                      batch's previous record (the first:
 *                                      from the trace's origin)
 *   processor + 1, a, b                varints (a and b zigzag)
 *   a switch only: a byte with bit k set when part k is not 0, then those
 *                  parts, varints
 *
 * Little-endian base-128 varints, as Go's tracer and protobuf write them: a
 * switch between two goroutines takes about 12 bytes where its record and its
 * parts take 64, and what the thread writes, the host encodes and the session
 * carries shrink by as much. */
enum { RECORD_MAX = 4 + 10 * 4 + 1 + 5 * 5 }; /* the longest a record can be */

static inline uint8_t *put_uvarint(uint8_t *p, uint64_t v)
{
    if (SP_UNLIKELY(v >= 0x80)) {
        /* the delta of a counter: usually two bytes */
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    while (SP_UNLIKELY(v >= 0x80)) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static inline uint8_t *put_head(trace_thread *t, uint8_t *p, uint64_t ticks, int32_t kind, int32_t why,
                                int32_t wait, int32_t flags, int64_t a, int64_t b)
{
    p[0] = (uint8_t)kind;
    p[1] = (uint8_t)why;
    p[2] = (uint8_t)wait;
    p[3] = (uint8_t)flags;
    p = put_uvarint(p + 4, zigzag((int64_t)(ticks - t->last_ticks)));
    t->last_ticks = ticks;
    p = put_uvarint(p, (uint64_t)(uint32_t)(t->processor + 1));
    p = put_uvarint(p, zigzag(a));
    return put_uvarint(p, zigzag(b));
}

/* A batch with room for a record, for the owner t, or 0: none free (the
   record is dropped). On the thread's own stack (refill() below). */
static int refill_here(trace_thread *t)
{
    sp_trace_batch *b = t->cur;
    if (t->scratch) { /* the start's measuring writes go round one batch */
        t->pos = (uint8_t *)b + SP_TRACE_BATCH_HEADER;
        b->count = 0;
        return 1;
    }
    if (b != NULL) {
        b->bytes = (uint32_t)(t->pos - ((uint8_t *)b + SP_TRACE_BATCH_HEADER));
        publish(b);
    }
    b = t->cur = obtain(t);
    if (b == NULL) {
        t->pos = t->limit = NULL;
        return 0;
    }
    t->pos = (uint8_t *)b + SP_TRACE_BATCH_HEADER;
    t->limit = t->pos + SP_TRACE_BATCH_DATA - RECORD_MAX;
    t->last_ticks = tr.origin_ticks;
    return 1;
}

typedef struct refill_call {
    trace_thread *t;
    int ok;
} refill_call;

static void refill_on_system_stack(void *p)
{
    refill_call *r = p;
    r->ok = refill_here(r->t);
}

/* refill_here on the thread's own stack: publishing takes locks and reads
   the clock, deeper than the reserve a goroutine's segment keeps below its
   limit for libspindle's calls leaves to the tracer. */
static SP_NOINLINE int refill(trace_thread *t)
{
    refill_call r = { t, 0 };
    sp_systemstack(refill_on_system_stack, &r);
    return r.ok;
}

/* Where the owner t writes its next record, or NULL: the trace is off, or
   the record is dropped (counted). Between begin and end t is writing. */
static inline uint8_t *begin(trace_thread *t)
{
    atomic_store_explicit(&t->writing, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst); /* the stopper's barrier does the rest */
    if (!__atomic_load_n(&sp_trace_active, __ATOMIC_RELAXED) && !t->scratch) {
        atomic_store_explicit(&t->writing, 0, memory_order_release);
        return NULL;
    }
    if (SP_UNLIKELY(t->pos >= t->limit) && !refill(t)) {
        t->dropped++;
        atomic_fetch_add_explicit(&tr.dropped, 1, memory_order_relaxed);
        atomic_store_explicit(&t->writing, 0, memory_order_release);
        return NULL;
    }
    return t->pos;
}

/* The record that begin started ends at p and decodes to n records. */
static inline void end(trace_thread *t, uint8_t *p, uint32_t n)
{
    t->pos = p;
    t->cur->count += n;
    if (!t->scratch) /* the start's own measuring writes are not records of the trace */
        atomic_store_explicit(&t->records, atomic_load_explicit(&t->records, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    atomic_store_explicit(&t->writing, 0, memory_order_release);
}

static inline uint64_t get_uvarint(const uint8_t **p, const uint8_t *end, int *bad)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end) {
            *bad = 1;
            return 0;
        }
        uint8_t c = *(*p)++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (c < 0x80)
            return v;
    }
    *bad = 1; /* longer than a 64-bit value */
    return 0;
}

static inline int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

int64_t sp_trace_decode(const uint8_t *data, int64_t bytes, int64_t count, uint64_t origin_ticks,
                        sp_trace_record *out, int64_t cap)
{
    if ((data == NULL && bytes != 0) || bytes < 0 || count < 0 || count > cap || (out == NULL && count != 0))
        return SP_EINVAL;
    const uint8_t *p = data, *end_of = data + bytes;
    uint64_t ticks = origin_ticks;
    int bad = 0;
    int64_t n = 0;
    while (n < count) {
        if (end_of - p < 4)
            return SP_EINVAL;
        sp_trace_record *r = &out[n++];
        r->kind = p[0];
        r->why = p[1];
        r->wait_reason = p[2];
        r->flags = p[3];
        p += 4;
        ticks += (uint64_t)unzigzag(get_uvarint(&p, end_of, &bad));
        r->ticks = ticks;
        uint64_t processor = get_uvarint(&p, end_of, &bad);
        if (processor > UINT32_MAX)
            bad = 1;
        r->processor = (int32_t)((uint32_t)processor - 1u);
        r->a = unzigzag(get_uvarint(&p, end_of, &bad));
        r->b = unzigzag(get_uvarint(&p, end_of, &bad));
        if (bad || r->kind == SP_TRACE_PARTS || r->kind == 0 || r->kind > SP_TRACE_PROC)
            return SP_EINVAL;
        if (r->kind != SP_TRACE_SWITCH)
            continue;
        if (n >= count || p >= end_of)
            return SP_EINVAL; /* a switch's parts are one of its count */
        sp_trace_parts *parts = (sp_trace_parts *)&out[n++];
        memset(parts, 0, sizeof *parts);
        uint8_t present = *p++;
        if (present >> SP_TRACE_PART_COUNT)
            return SP_EINVAL;
        for (int k = 0; k < SP_TRACE_PART_COUNT; k++) {
            if (present & (1u << k)) {
                uint64_t v = get_uvarint(&p, end_of, &bad);
                if (v > UINT32_MAX)
                    bad = 1;
                parts->ticks[k] = (uint32_t)v;
            }
        }
        if (bad)
            return SP_EINVAL;
        parts->kind = SP_TRACE_PARTS;
        parts->flags = r->flags;
        parts->processor = r->processor;
    }
    return count;
}

/* ---- threads ------------------------------------------------------------------- */

/* Takes t's batch from it, its bytes counted (the owner, or the stopper once
   the owner has stopped writing). */
static sp_trace_batch *detach(trace_thread *t)
{
    sp_trace_batch *b = t->cur;
    if (b != NULL)
        b->bytes = (uint32_t)(t->pos - ((uint8_t *)b + SP_TRACE_BATCH_HEADER));
    t->cur = NULL;
    t->pos = t->limit = NULL;
    return b;
}

static void thread_exit(void);

/* The calling thread's state; made (on the thread's own stack: callers that
   may run on a goroutine's segment use current() instead) when create. */
static trace_thread *thread_state(int create)
{
    trace_thread *t = tls_trace;
    if (t != NULL || !create || !__atomic_load_n(&sp_trace_active, __ATOMIC_RELAXED))
        return t;
    /* Never reused: a stopper may be reading an ended thread's state. */
    t = calloc(1, sizeof *t);
    sp_lock_acquire(&tr.lock);
    if (t != NULL) {
        t->next = tr.threads;
        tr.threads = t;
        t->in_use = 1;
        t->id = ++tr.next_thread_id;
        t->cur = NULL;
        t->dropped = 0;
        t->processor = -1;
        t->stage = STAGE_NONE;
    }
    sp_lock_release(&tr.lock);
    tls_trace = t;
    sp_arm_thread_exit(thread_exit);
    return t;
}

/* A thread that ends hands its batch over and gives its state back. */
static void thread_exit(void)
{
    trace_thread *t = tls_trace;
    if (t == NULL)
        return;
    tls_trace = NULL;
    atomic_store_explicit(&t->writing, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst); /* as put: the stopper takes it otherwise */
    if (__atomic_load_n(&sp_trace_active, __ATOMIC_RELAXED)) {
        sp_trace_batch *b = detach(t);
        if (b != NULL && b->count > 0)
            publish(b);
        else if (b != NULL) {
            sp_lock_acquire(&tr.lock);
            push_free(b);
            sp_lock_release(&tr.lock);
        }
    }
    atomic_store_explicit(&t->writing, 0, memory_order_release);
    sp_lock_acquire(&tr.lock);
    t->in_use = 0;
    sp_lock_release(&tr.lock);
}

/* ---- switches ------------------------------------------------------------------- */

static uint32_t clamp_ticks(uint64_t from, uint64_t to, int *saturated)
{
    uint64_t d = to > from ? to - from : 0;
    if (d > UINT32_MAX) {
        *saturated = 1;
        return UINT32_MAX;
    }
    return (uint32_t)d;
}

static void event(trace_thread *t, uint64_t ticks, int32_t kind, int64_t a, int64_t b, int32_t why, int32_t wait);

/* Writes the block record an untimed leave owes, at ticks. */
static void flush_block(trace_thread *t, uint64_t ticks)
{
    if (!t->block_pending)
        return;
    t->block_pending = 0;
    event(t, ticks, SP_TRACE_BLOCK, t->from, t->block_object, 0, t->wait_reason);
}

/* Writes the switch in flight, which ended at end (to: 0 when it ends in the
   host or the thread goes idle). Its parts cover [t_leave, end] exactly; an
   untimed one has none. */
static void commit(trace_thread *t, uint64_t end_ticks, int64_t to, int restore_timed)
{
    flush_block(t, end_ticks);
    if (t->untimed) {
        /* The common switch, direct and untimed: its end alone, no part (only
           leave() makes one, and it clears the other paths' marks). */
        uint8_t *p = begin(t);
        if (p != NULL) {
            p = put_head(t, p, end_ticks, SP_TRACE_SWITCH, t->why, t->wait_reason,
                         SP_TRACE_F_UNTIMED | SP_TRACE_F_DIRECT, t->from, to);
            *p++ = 0;
            end(t, p, 2);
        }
        t->stage = STAGE_NONE;
        t->untimed = 0;
        return;
    }
    uint32_t part[SP_TRACE_PART_COUNT] = { 0 };
    int sat = 0;
    uint64_t start = t->from_idle ? t->t_native_in : t->t_leave;
    if (t->from_idle) {
        part[SP_TRACE_PART_DECISION] = clamp_ticks(t->t_native_in, t->t_resume, &sat);
        part[SP_TRACE_PART_SAVE_RESTORE] = clamp_ticks(t->t_resume, end_ticks, &sat);
    } else if (t->via_host) {
        uint64_t resume = t->stage >= STAGE_RESUMING ? t->t_resume : end_ticks;
        uint64_t native_in = t->stage >= STAGE_NATIVE_IN ? t->t_native_in : end_ticks;
        uint64_t host_out = t->stage >= STAGE_HOST_DONE ? t->t_host_out : native_in;
        uint64_t host_in = t->stage >= STAGE_HOST ? t->t_host_in : host_out;
        part[SP_TRACE_PART_SAVE_RESTORE] =
            clamp_ticks(t->t_leave, t->t_loop, &sat) + clamp_ticks(resume, end_ticks, &sat);
        part[SP_TRACE_PART_DECISION] =
            clamp_ticks(t->t_loop, t->t_decided, &sat) + clamp_ticks(native_in, resume, &sat);
        part[SP_TRACE_PART_TO_HOST] = clamp_ticks(t->t_decided, host_in, &sat);
        part[SP_TRACE_PART_HOST] = clamp_ticks(host_in, host_out, &sat);
        part[SP_TRACE_PART_FROM_HOST] = clamp_ticks(host_out, native_in, &sat);
    } else if (t->via_loop) {
        uint64_t resume = t->timed_resume ? t->t_resume : end_ticks;
        part[SP_TRACE_PART_SAVE_RESTORE] =
            clamp_ticks(t->t_leave, t->t_loop, &sat) + clamp_ticks(resume, end_ticks, &sat);
        part[SP_TRACE_PART_DECISION] = clamp_ticks(t->t_loop, resume, &sat);
    } else {
        part[SP_TRACE_PART_SAVE_RESTORE] = clamp_ticks(start, end_ticks, &sat);
    }
    int32_t flags = 0;
    if (!restore_timed)
        flags |= SP_TRACE_F_RESTORE_UNTIMED;
    if (sat)
        flags |= SP_TRACE_F_SATURATED;
    if (t->via_host)
        flags |= SP_TRACE_F_VIA_HOST;
    else if (t->via_loop)
        flags |= SP_TRACE_F_VIA_LOOP;
    else if (!t->from_idle)
        flags |= SP_TRACE_F_DIRECT;
    uint8_t *p = begin(t);
    if (p != NULL) {
        p = put_head(t, p, end_ticks, SP_TRACE_SWITCH, t->why, t->wait_reason, flags, t->from_idle ? 0 : t->from, to);
        uint8_t *present = p++;
        uint8_t mask = 0;
        for (int k = 0; k < SP_TRACE_PART_COUNT; k++) {
            if (part[k] != 0) {
                mask |= (uint8_t)(1u << k);
                p = put_uvarint(p, part[k]);
            }
        }
        *present = mask;
        end(t, p, 2);
    }
    t->stage = STAGE_NONE;
    t->via_host = t->via_loop = t->from_idle = t->untimed = 0;
}

static void event(trace_thread *t, uint64_t ticks, int32_t kind, int64_t a, int64_t b, int32_t why, int32_t wait)
{
    uint8_t *p = begin(t);
    if (p != NULL)
        end(t, put_head(t, p, ticks, kind, why, wait, 0, a, b), 1);
}

/* A switch whose goroutine landed where nothing stamps (a runtime call's
   return, a first run) is written at the thread's next trace call, ending
   at its resume. */
static void settle(trace_thread *t)
{
    if (t->stage != STAGE_RESUMING)
        return;
    uint64_t end = t->timed_resume ? t->t_resume : t->untimed ? sp_trace_ticks() : t->t_leave;
    commit(t, end, t->to, 0);
}

/* settle(), for the loop's entry and the host's marks: besides, a leave no
   loop saw (a trace begun mid-loop) ends here, its block written and its
   untimed mark gone. */
static void settle_at(trace_thread *t, uint64_t now)
{
    settle(t);
    flush_block(t, now);
    t->untimed = 0;
}

/* Leaves until the next timed one: 1 to 2 * SP_TRACE_TIME_EVERY - 1, at
   random (xorshift), so that no period of a program's lines up with it. */
static uint32_t next_timed(trace_thread *t)
{
    uint32_t x = t->rng != 0 ? t->rng : 0x9e3779b9u ^ t->id;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    t->rng = x;
    return 1 + x % (2 * SP_TRACE_TIME_EVERY - 1);
}

void sp_trace_leave(int64_t from, int32_t why, int32_t wait_reason)
{
    trace_thread *t = tls_trace;
    if (t == NULL)
        return;
    settle(t);
    if (SP_UNLIKELY(t->block_pending))
        flush_block(t, sp_trace_ticks()); /* a leave that never landed (a trace begun mid-loop) */
    t->from = from;
    t->why = why;
    t->wait_reason = wait_reason;
    t->via_host = t->via_loop = t->from_idle = 0;
    t->stage = STAGE_LEFT;
    if (!SP_UNLIKELY(t->until_timed <= 1)) {
        /* Untimed: the counter is read once, where the next goroutine lands. */
        t->until_timed--;
        t->untimed = 1;
        if (why == SP_TRACE_PARKED) {
            t->block_pending = 1;
            t->block_object = t->object;
            t->object = 0;
        }
        return;
    }
    t->until_timed = next_timed(t);
    t->untimed = 0;
    t->t_leave = sp_trace_ticks();
    if (why == SP_TRACE_PARKED) {
        event(t, t->t_leave, SP_TRACE_BLOCK, from, t->object, 0, wait_reason);
        t->object = 0;
    }
}

void sp_trace_to_loop(void)
{
    trace_thread *t = tls_trace;
    if (t == NULL || t->stage != STAGE_LEFT || !t->untimed)
        return;
    /* An untimed leave that goes through the loop after all: timed whole
       (a switch through the loop or the host always is). */
    t->untimed = 0;
    t->t_leave = sp_trace_ticks();
    flush_block(t, t->t_leave);
}

void sp_trace_back_in_loop(int64_t from, int32_t why, int32_t wait_reason)
{
    trace_thread *t = tls_trace;
    if (t == NULL)
        return;
    uint64_t now = sp_trace_ticks();
    if (t->stage != STAGE_LEFT) {
        /* It left through a runtime call or its end: the switch starts here. */
        settle(t);
        t->t_leave = now;
        t->via_host = t->from_idle = t->untimed = 0;
        if (why == SP_TRACE_PARKED) {
            event(t, now, SP_TRACE_BLOCK, from, t->object, 0, wait_reason);
            t->object = 0;
        }
    }
    if (why == SP_TRACE_EXITED)
        event(t, now, SP_TRACE_EXIT, from, 0, 0, 0);
    t->from = from;
    t->why = why;
    t->wait_reason = wait_reason;
    t->t_loop = now;
    t->via_loop = 1;
    t->stage = STAGE_IN_LOOP;
}

void sp_trace_decided(void)
{
    trace_thread *t = tls_trace;
    if (t == NULL || t->stage != STAGE_IN_LOOP)
        return;
    t->t_decided = sp_trace_ticks();
    t->via_host = 1;
    t->stage = STAGE_DECIDED;
}

void sp_trace_loop_entered(void)
{
    trace_thread *t = thread_state(1);
    if (t == NULL)
        return;
    uint64_t now = sp_trace_ticks();
    settle_at(t, now);
    if (t->stage == STAGE_DECIDED || t->stage == STAGE_HOST) {
        /* The host did not stamp its side (it need not): its work and both
           transitions count as the host's. */
        if (t->stage == STAGE_DECIDED)
            t->t_host_in = t->t_decided;
        t->t_host_out = now;
        t->stage = STAGE_HOST_DONE;
    }
    if (t->stage == STAGE_HOST_DONE) {
        t->t_native_in = now;
        t->stage = STAGE_NATIVE_IN;
    } else if (t->stage == STAGE_NONE || t->stage == STAGE_IDLE || t->stage == STAGE_LEFT ||
               t->stage == STAGE_IN_LOOP) {
        /* Nothing in flight that reached the host: the next switch starts
           from none. */
        t->from_idle = 1;
        t->via_host = t->via_loop = 0;
        t->t_native_in = now;
        t->stage = STAGE_NATIVE_IN;
    }
}

void sp_trace_resuming(int64_t to, int direct)
{
    trace_thread *t = tls_trace;
    if (t == NULL)
        return;
    if (direct && t->stage == STAGE_LEFT) {
        /* A direct switch lands in leave(), which stamps its end: the resume
           is not stamped (one read of the counter less), its time the
           decision's and the save/restore's as one. */
        t->timed_resume = 0;
    } else if (!direct && (t->stage == STAGE_NATIVE_IN || t->stage == STAGE_IN_LOOP)) {
        t->t_resume = sp_trace_ticks();
        t->timed_resume = 1;
    } else {
        return;
    }
    t->to = to;
    t->stage = STAGE_RESUMING;
}

void sp_trace_landed(void)
{
    trace_thread *t = tls_trace;
    if (t == NULL || t->stage != STAGE_RESUMING)
        return;
    uint64_t now = sp_trace_ticks();
    commit(t, now, t->to, 1);
}

void sp_trace_event(int32_t kind, int64_t a, int64_t b, int32_t why, int32_t wait_reason)
{
    trace_thread *t = tls_trace;
    if (t == NULL) {
        atomic_fetch_add_explicit(&tr.no_thread, 1, memory_order_relaxed);
        return;
    }
    event(t, sp_trace_ticks(), kind, a, b, why, wait_reason);
}

void sp_trace_blocked_on(uint64_t object)
{
    trace_thread *t = tls_trace;
    if (t != NULL)
        t->object = (int64_t)object;
}

/* ---- the host's calls ------------------------------------------------------------ */

void sp_trace_mark(int32_t mark, int64_t a, int64_t b)
{
    if (!__atomic_load_n(&sp_trace_active, __ATOMIC_RELAXED))
        return;
    trace_thread *t = thread_state(1);
    if (t == NULL)
        return;
    uint64_t now = sp_trace_ticks();
    switch (mark) {
    case SP_TRACE_MARK_HOST_IN:
        settle(t);
        if (t->stage == STAGE_DECIDED) {
            t->t_host_in = now;
            t->stage = STAGE_HOST;
        }
        break;
    case SP_TRACE_MARK_HOST_OUT:
        if (t->stage == STAGE_HOST) {
            t->t_host_out = now;
            t->stage = STAGE_HOST_DONE;
        }
        break;
    case SP_TRACE_MARK_IDLE:
    case SP_TRACE_MARK_SPIN:
        settle_at(t, now);
        if (t->stage != STAGE_NONE && t->stage != STAGE_IDLE && !t->from_idle) {
            /* The switch in flight ends in the host: the worker has nothing
               to run next. */
            if (t->stage == STAGE_IN_LOOP) {
                t->t_decided = t->t_host_in = now;
                t->via_host = 1;
                t->stage = STAGE_HOST;
            }
            if (t->stage == STAGE_DECIDED) {
                t->t_host_in = now;
                t->stage = STAGE_HOST;
            }
            if (t->stage == STAGE_HOST || t->stage == STAGE_HOST_DONE || t->stage == STAGE_NATIVE_IN)
                commit(t, now, 0, 1);
        }
        t->stage = STAGE_IDLE;
        event(t, now, mark == SP_TRACE_MARK_IDLE ? SP_TRACE_IDLE : SP_TRACE_SPIN, 0, 0, 0, 0);
        break;
    case SP_TRACE_MARK_PROCESSOR:
        t->processor = (int32_t)a;
        event(t, now, SP_TRACE_PROC, a, 0, 0, 0);
        break;
    case SP_TRACE_MARK_RUN_MANAGED:
        /* A managed goroutine's step begins on this worker: the switch in
           flight ends here, the host's work its last part. */
        settle_at(t, now);
        if (t->stage == STAGE_DECIDED) {
            t->t_host_in = t->t_decided;
            t->stage = STAGE_HOST;
        }
        t->timed_resume = 1;
        if (t->stage == STAGE_HOST) {
            t->t_host_out = t->t_native_in = t->t_resume = now;
            t->stage = STAGE_RESUMING;
            commit(t, now, a, 1);
        } else {
            t->from_idle = 1;
            t->t_native_in = t->t_resume = now;
            t->stage = STAGE_RESUMING;
            commit(t, now, a, 1);
        }
        break;
    case SP_TRACE_MARK_STEP_END:
        /* A managed goroutine's step ended (b: why, as SP_TRACE_YIELD...):
           the switch from it starts in the host. */
        settle_at(t, now);
        t->from = a;
        t->why = (int32_t)b;
        t->wait_reason = 0;
        t->t_leave = t->t_loop = t->t_decided = t->t_host_in = now;
        t->via_host = 1;
        t->via_loop = t->from_idle = 0;
        t->stage = STAGE_HOST;
        break;
    default:
        break;
    }
}

void sp_trace_record_event(int32_t kind, int64_t a, int64_t b, int32_t why, int32_t wait_reason)
{
    if (!__atomic_load_n(&sp_trace_active, __ATOMIC_RELAXED))
        return;
    trace_thread *t = thread_state(1);
    if (t != NULL)
        event(t, sp_trace_ticks(), kind, a, b, why, wait_reason);
}

#if SPINDLE_TRACE
/* What one traced direct switch adds to the switch path on average (one
   read of the counter and its record; both ends read on the one in
   SP_TRACE_TIME_EVERY that is timed), measured on the calling thread into a
   scratch batch. */
static uint64_t measure_stamp_cost(void)
{
    trace_thread scratch;
    memset(&scratch, 0, sizeof scratch);
    scratch.scratch = 1;
    sp_trace_batch *b = malloc(SP_TRACE_BATCH_BYTES);
    if (b == NULL)
        return 0;
    b->count = 0;
    enum { ROUNDS = 2048 };
    uint64_t best = UINT64_MAX;
    for (int round = 0; round < 5; round++) {
        b->count = 0;
        scratch.cur = b;
        scratch.pos = (uint8_t *)b + SP_TRACE_BATCH_HEADER;
        scratch.limit = scratch.pos + SP_TRACE_BATCH_DATA - RECORD_MAX;
        uint64_t t0 = sp_trace_ticks();
        for (int i = 0; i < ROUNDS; i++) {
            scratch.untimed = i % SP_TRACE_TIME_EVERY != 0;
            if (!scratch.untimed)
                scratch.t_leave = sp_trace_ticks();
            scratch.stage = STAGE_LEFT;
            scratch.from = i;
            scratch.to = i + 1;
            scratch.timed_resume = 0;
            scratch.stage = STAGE_RESUMING;
            uint64_t end = sp_trace_ticks();
            commit(&scratch, end, scratch.to, 1);
        }
        uint64_t t1 = sp_trace_ticks();
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    free(b);
    return best / ROUNDS;
}
#endif

/* Zeroes a trace's counts (under tr.lock, no trace writing). */
static void reset_counts(void)
{
    for (trace_thread *t = tr.threads; t != NULL; t = t->next)
        atomic_store_explicit(&t->records, 0, memory_order_relaxed);
    atomic_store(&tr.dropped, 0);
    atomic_store(&tr.overwritten, 0);
    atomic_store(&tr.published, 0);
    atomic_store(&tr.no_thread, 0);
}

int sp_trace_start(int64_t buffer_bytes, int32_t flight)
{
#if !SPINDLE_TRACE
    (void)buffer_bytes;
    (void)flight;
    return SP_ENOTSUP;
#else
    int64_t n = buffer_bytes / SP_TRACE_BATCH_BYTES;
    if (buffer_bytes <= 0 || n < 1 || (flight != 0 && flight != 1))
        return SP_EINVAL;
    sp_lock_acquire(&tr.lock);
    if (tr.phase != TRACE_IDLE) {
        sp_lock_release(&tr.lock);
        return SP_ESTATE;
    }
    void *memory = calloc((size_t)n, SP_TRACE_BATCH_BYTES);
    if (memory == NULL) {
        sp_lock_release(&tr.lock);
        return SP_ENOMEM;
    }
    tr.phase = TRACE_STARTING;
    tr.memory = memory;
    tr.batches = n;
    tr.buffer_bytes = n * SP_TRACE_BATCH_BYTES;
    tr.flight = flight;
    tr.free_list = NULL;
    for (int64_t i = n - 1; i >= 0; i--) {
        sp_trace_batch *b = (sp_trace_batch *)((char *)memory + i * SP_TRACE_BATCH_BYTES);
        push_free(b);
    }
    tr.full_head = tr.full_tail = NULL;
    tr.full_count = 0;
    tr.next_seq = 0;
    reset_counts();
    for (trace_thread *t = tr.threads; t != NULL; t = t->next) {
        /* owners are not tracing: nothing reads these now */
        t->stage = STAGE_NONE;
        t->untimed = t->block_pending = 0;
    }
    sp_lock_release(&tr.lock);
    uint64_t rate = nominal_rate();
    if (rate == 0)
        rate = measure_rate();
    tr.stamp_ticks = measure_stamp_cost();
    sp_lock_acquire(&tr.lock);
    tr.origin_ns = sp_clock_now();
    tr.origin_ticks = sp_trace_ticks();
    atomic_store(&tr.ticks_per_second, rate);
    tr.phase = TRACE_ACTIVE;
    __atomic_store_n(&sp_trace_active, 1, __ATOMIC_SEQ_CST);
    sp_lock_release(&tr.lock);
    return SP_OK;
#endif
}

int sp_trace_stop(void)
{
#if !SPINDLE_TRACE
    return SP_ESTATE;
#else
    sp_lock_acquire(&tr.lock);
    if (tr.phase != TRACE_ACTIVE) {
        sp_lock_release(&tr.lock);
        return SP_ESTATE;
    }
    tr.phase = TRACE_STOPPING;
    __atomic_store_n(&sp_trace_active, 0, __ATOMIC_SEQ_CST);
    sp_lock_release(&tr.lock);
    process_barrier();
    /* Every writer has seen the trace stopped, or is seen writing: wait for
       those, then take every thread's batch. */
    sp_lock_acquire(&tr.lock);
    trace_thread *threads = tr.threads;
    sp_lock_release(&tr.lock);
    for (trace_thread *t = threads; t != NULL; t = t->next) {
        while (atomic_load_explicit(&t->writing, memory_order_acquire) != 0) {
            /* a few instructions away from done */
        }
        sp_trace_batch *b = detach(t);
        if (b == NULL)
            continue;
        if (b->count > 0) {
            publish(b);
        } else {
            sp_lock_acquire(&tr.lock);
            push_free(b);
            sp_lock_release(&tr.lock);
        }
    }
    sp_lock_acquire(&tr.lock);
    tr.phase = TRACE_STOPPED;
    sp_lock_release(&tr.lock);
    return SP_OK;
#endif
}

sp_trace_batch *sp_trace_take(void)
{
    sp_lock_acquire(&tr.lock);
    sp_trace_batch *b = tr.full_head;
    if (b != NULL) {
        tr.full_head = b->next;
        if (tr.full_head == NULL)
            tr.full_tail = NULL;
        tr.full_count--;
        b->next = NULL;
    }
    sp_lock_release(&tr.lock);
    return b;
}

void sp_trace_give(sp_trace_batch *b)
{
    if (b == NULL)
        return;
    sp_lock_acquire(&tr.lock);
    if (tr.phase != TRACE_IDLE)
        push_free(b);
    sp_lock_release(&tr.lock);
}

int sp_trace_release(void)
{
    sp_lock_acquire(&tr.lock);
    if (tr.phase != TRACE_STOPPED) {
        sp_lock_release(&tr.lock);
        return SP_ESTATE;
    }
    free(tr.memory);
    tr.memory = NULL;
    tr.free_list = tr.full_head = tr.full_tail = NULL;
    tr.full_count = 0;
    tr.phase = TRACE_IDLE;
    /* Released: the counts go with it (a host that keeps totals took them). */
    reset_counts();
    sp_lock_release(&tr.lock);
    return SP_OK;
}

void sp_trace_get_stats(sp_trace_stats *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    uint64_t records = 0;
    sp_lock_acquire(&tr.lock);
    for (trace_thread *t = tr.threads; t != NULL; t = t->next)
        records += atomic_load_explicit(&t->records, memory_order_relaxed);
    sp_lock_release(&tr.lock);
    out->records = records;
    out->dropped = atomic_load_explicit(&tr.dropped, memory_order_relaxed) +
                   atomic_load_explicit(&tr.no_thread, memory_order_relaxed);
    out->overwritten_batches = atomic_load_explicit(&tr.overwritten, memory_order_relaxed);
    out->published_batches = atomic_load_explicit(&tr.published, memory_order_relaxed);
    out->ticks_per_second = atomic_load_explicit(&tr.ticks_per_second, memory_order_relaxed);
    out->stamp_ticks = tr.stamp_ticks;
    out->buffer_bytes = tr.buffer_bytes;
    out->active = __atomic_load_n(&sp_trace_active, __ATOMIC_RELAXED);
    out->flight = tr.flight;
    out->compiled = SPINDLE_TRACE;
}

const int32_t *sp_trace_active_word(void)
{
#if SPINDLE_TRACE
    return &sp_trace_active;
#else
    static const int32_t never;
    return &never;
#endif
}
