/* The switch tracer, natively (trace.c): the benchmarks' ping-pong under the
   test harness with a trace running, a buffer too small for the trace (its
   drops counted), and the flight recorder (the newest batches kept). Runs in
   every build: natively, under valgrind and ASan, on AArch64 under qemu and
   on Win64 under wine. */
#include "channel_workloads.h"
#include "check.h"
#include "harness.h"

#include <stdatomic.h>
#include <string.h>

/* What a trace's batches held. */
typedef struct tally {
    int64_t batches, records, switches, between_goroutines, creates, exits, blocks, unblocks;
    int64_t parts_missing, parts_bad, too_long, zero_cost, dropped_before;
    int64_t untimed, untimed_with_parts, timed_direct, untimed_direct;
    int64_t chan_blocks_unnamed; /* a block in a channel send or receive naming no channel */
    uint64_t first_seq, last_seq, seq_gaps;
} tally;

/* Takes every published batch, checks each switch's parts against the
   whole, and gives the batches back. */
static void drain(tally *t, uint64_t ticks_per_second)
{
    memset(t, 0, sizeof *t);
    uint64_t one_second = ticks_per_second;
    for (sp_trace_batch *b = sp_trace_take(); b != NULL; b = sp_trace_take()) {
        if (t->batches == 0)
            t->first_seq = b->seq;
        else if (b->seq != t->last_seq + 1)
            t->seq_gaps++;
        t->last_seq = b->seq;
        t->batches++;
        t->dropped_before += (int64_t)b->dropped_before;
        CHECK(b->count <= SP_TRACE_BATCH_RECORDS);
        CHECK(b->bytes <= SP_TRACE_BATCH_DATA);
        CHECK(b->ticks_per_second > 0);
        static sp_trace_record records[SP_TRACE_BATCH_RECORDS];
        const uint8_t *data = (const uint8_t *)b + SP_TRACE_BATCH_HEADER;
        /* Its bytes hold its records exactly: one byte less does not. */
        if (b->bytes > 0)
            CHECK_EQ(sp_trace_decode(data, b->bytes - 1, b->count, b->origin_ticks, records, SP_TRACE_BATCH_RECORDS), SP_EINVAL);
        CHECK_EQ(sp_trace_decode(data, b->bytes, b->count, b->origin_ticks, records, SP_TRACE_BATCH_RECORDS), (int64_t)b->count);
        for (uint32_t i = 0; i < b->count; i++) {
            const sp_trace_record *r = &records[i];
            t->records++;
            switch (r->kind) {
            case SP_TRACE_SWITCH: {
                t->switches++;
                if (r->a != 0 && r->b != 0 && r->a != r->b)
                    t->between_goroutines++;
                if (i + 1 >= b->count || records[i + 1].kind != SP_TRACE_PARTS) {
                    t->parts_missing++;
                    break;
                }
                const sp_trace_parts *p = (const sp_trace_parts *)&records[++i];
                uint64_t sum = 0;
                for (int k = 0; k < SP_TRACE_PART_COUNT; k++)
                    sum += p->ticks[k];
                if (p->flags != r->flags || p->processor != r->processor)
                    t->parts_bad++;
                if (sum > one_second)
                    t->too_long++;
                if (r->flags & SP_TRACE_F_DIRECT) {
                    if (r->flags & SP_TRACE_F_UNTIMED)
                        t->untimed_direct++;
                    else
                        t->timed_direct++;
                }
                if (r->flags & SP_TRACE_F_UNTIMED) {
                    t->untimed++; /* its end alone: no part */
                    if (sum != 0)
                        t->untimed_with_parts++;
                } else if (sum == 0) {
                    t->zero_cost++;
                }
                break;
            }
            case SP_TRACE_PARTS:
                t->parts_bad++; /* a parts record with no switch before it */
                break;
            case SP_TRACE_CREATE: t->creates++; break;
            case SP_TRACE_EXIT: t->exits++; break;
            case SP_TRACE_BLOCK:
                t->blocks++;
                if ((r->wait_reason == SP_WAIT_CHAN_RECV || r->wait_reason == SP_WAIT_CHAN_SEND) && r->b == 0)
                    t->chan_blocks_unnamed++;
                break;
            case SP_TRACE_UNBLOCK: t->unblocks++; break;
            default: break;
            }
        }
        sp_trace_give(b);
    }
}

static void pingpong(void *p)
{
    int64_t *io = p;
    io[1] = wl_pingpong(io[0]);
}

static int64_t rounds(void) { return getenv("SPINDLE_TEST_VALGRIND") != NULL ? 2000 : 20000; }

/* Ends the trace: stops it, reads its counts into s, drains its batches into t
   and releases it. */
static void stop_and_drain(sp_trace_stats *s, tally *t)
{
    CHECK_EQ(sp_trace_stop(), SP_OK);
    sp_trace_get_stats(s);
    drain(t, s->ticks_per_second);
    CHECK_EQ(sp_trace_release(), SP_OK);
}

/* A ping-pong on one processor: two switches a round trip, each with its
   parts; the blocks and unblocks that cause them; nothing dropped. */
static void test_pingpong_is_traced(void)
{
    int64_t seg0, res0, grown0;
    sp_stack_stats(&seg0, &res0, &grown0);
    sp_trace_stats s;
    sp_trace_get_stats(&s);
    CHECK_EQ(s.compiled, 1);
    CHECK_EQ(s.active, 0);
    CHECK_EQ(sp_trace_start(64 << 20, 0), SP_OK);
    CHECK_EQ(sp_trace_start(64 << 20, 0), SP_ESTATE); /* one at a time */
    CHECK_EQ(*sp_trace_active_word(), 1);
    int64_t io[2] = { rounds(), 0 };
    CHECK_EQ(harness_run(pingpong, io, 1), 0);
    CHECK_EQ(io[1], rounds());
    /* Every goroutine's stack went back: the counts are what they were. */
    int64_t seg1, res1, grown1;
    sp_stack_stats(&seg1, &res1, &grown1);
    CHECK_EQ(seg1, seg0);
    CHECK_EQ(res1, res0);
    CHECK(grown1 >= grown0);
    sp_stack_stats(NULL, NULL, NULL);
    tally t;
    stop_and_drain(&s, &t);
    CHECK_EQ(sp_trace_stop(), SP_ESTATE);
    CHECK_EQ(s.dropped, 0);
    CHECK_EQ(t.dropped_before, 0);
    CHECK_EQ(t.seq_gaps, 0);
    CHECK_EQ(t.first_seq, 1);
    CHECK_EQ((int64_t)t.last_seq, t.batches);
    CHECK(t.batches >= 1);
    CHECK_EQ(t.parts_missing, 0);
    CHECK_EQ(t.parts_bad, 0);
    CHECK_EQ(t.too_long, 0);
#if defined(__x86_64__) && !defined(_WIN32)
    CHECK_EQ(t.zero_cost, 0); /* rdtsc: every timed switch takes ticks (not so with a coarser counter) */
#endif
    /* About one direct switch in 16 is timed, the rest carry their end
       alone; only direct switches go untimed. */
    CHECK_EQ(t.untimed_with_parts, 0);
    CHECK_EQ(t.untimed, t.untimed_direct);
    CHECK(t.timed_direct * 64 >= t.timed_direct + t.untimed_direct);
    CHECK(t.timed_direct * 4 <= t.timed_direct + t.untimed_direct);
    /* Two switches a round trip, and a few to start and end. */
    CHECK(t.between_goroutines >= 2 * rounds());
    CHECK(t.between_goroutines <= 2 * rounds() + 16);
    CHECK(t.blocks >= 2 * rounds());
    CHECK_EQ(t.chan_blocks_unnamed, 0); /* every park in a channel names it */
    CHECK(t.unblocks >= 2 * rounds());
    CHECK(t.creates >= 1); /* the ponger, spawned in the loop */
    CHECK(t.exits >= 1);
    CHECK(s.stamp_ticks > 0);
    CHECK(s.ticks_per_second > 0);
    if (t.between_goroutines < 2 * rounds() || t.between_goroutines > 2 * rounds() + 16)
        fprintf(stderr, "switches between goroutines: %lld for %lld rounds\n", (long long)t.between_goroutines,
                (long long)rounds());
}

/* On two processors the goroutines move between threads: every switch still
   has its parts, and the batches their numbers. */
static void test_two_processors(void)
{
    CHECK_EQ(sp_trace_start(64 << 20, 0), SP_OK);
    int64_t io[2] = { rounds(), 0 };
    CHECK_EQ(harness_run(pingpong, io, 2), 0);
    CHECK_EQ(io[1], rounds());
    sp_trace_stats s;
    tally t;
    stop_and_drain(&s, &t);
    CHECK_EQ(t.parts_missing, 0);
    CHECK_EQ(t.parts_bad, 0);
    CHECK_EQ(t.too_long, 0);
    CHECK_EQ(t.seq_gaps, 0);
    CHECK(t.switches > 0);
}

/* One batch for every thread: the records that find none are dropped and
   counted, never lost silently. */
static void test_tiny_buffer_drops_and_counts(void)
{
    CHECK_EQ(sp_trace_start(SP_TRACE_BATCH_BYTES, 0), SP_OK);
    int64_t io[2] = { rounds(), 0 };
    CHECK_EQ(harness_run(pingpong, io, 1), 0);
    sp_trace_stats s;
    tally t;
    stop_and_drain(&s, &t);
    CHECK(s.dropped > 0);
    CHECK(s.records > 0);
    /* What was kept and what was dropped make up every record written. */
    CHECK(t.batches >= 1);
    CHECK(t.records <= SP_TRACE_BATCH_RECORDS * t.batches);
    CHECK(t.between_goroutines + (int64_t)s.dropped >= 2 * rounds());
}

/* The flight recorder keeps the newest batches, reusing the oldest. */
static void test_flight_recorder_keeps_the_last(void)
{
    CHECK_EQ(sp_trace_start(4 * SP_TRACE_BATCH_BYTES, 1), SP_OK);
    /* Enough round trips (about 40 bytes each) to fill the four batches
       several times over. */
    int64_t io[2] = { 10 * rounds(), 0 };
    CHECK_EQ(harness_run(pingpong, io, 1), 0);
    sp_trace_stats s;
    tally t;
    stop_and_drain(&s, &t);
    CHECK_EQ(s.dropped, 0);
    CHECK(s.overwritten_batches > 0);
    CHECK(t.batches <= 4);
    CHECK_EQ(t.seq_gaps, 0); /* the newest, one after the other */
    CHECK_EQ(t.last_seq, s.published_batches);
}

/* Start, stop and release from several threads at once. Racing stops: one
   succeeds, and the batch it publishes is taken once. A release racing a start
   (whose measuring takes milliseconds) is refused until the trace is stopped:
   it used to free the batches under the start. */
enum { RACERS = 3, RACE_ROUNDS = 100 };
static _Atomic int race_go;

typedef struct race {
    int op; /* 1 stop, 2 release until told */
    int ok;
    _Atomic int *until;
} race;

static void race_once(void *p)
{
    race *r = p;
    while (!atomic_load(&race_go)) {
    }
    if (r->op == 1) {
        int rc = sp_trace_stop();
        r->ok = rc == SP_OK;
        CHECK(rc == SP_OK || rc == SP_ESTATE);
        return;
    }
    do {
        int rc = sp_trace_release();
        r->ok += rc == SP_OK;
        CHECK(rc == SP_OK || rc == SP_ESTATE);
    } while (!atomic_load(r->until));
}

static void test_racing_starts_stops_and_releases(void)
{
    int64_t bad_stops = 0, bad_releases = 0;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        /* Releases while a start measures the counter. */
        _Atomic int started = 0;
        race rel = { .op = 2, .until = &started };
        atomic_store(&race_go, 1);
        harness_thread *releaser = harness_start(race_once, &rel);
        CHECK_EQ(sp_trace_start(256 << 10, 0), SP_OK);
        atomic_store(&started, 1);
        harness_join(releaser);
        bad_releases += rel.ok;
        atomic_store(&race_go, 0);

        /* Stops at once. */
        sp_trace_record_event(SP_TRACE_CREATE, round, 0, 0, 0); /* a record for the stop to publish */
        race r[RACERS];
        harness_thread *t[RACERS];
        for (int i = 0; i < RACERS; i++) {
            r[i] = (race){ .op = 1 };
            t[i] = harness_start(race_once, &r[i]);
        }
        atomic_store(&race_go, 1);
        int64_t stopped = 0;
        for (int i = 0; i < RACERS; i++) {
            harness_join(t[i]);
            stopped += r[i].ok;
        }
        atomic_store(&race_go, 0);
        sp_trace_stats s;
        sp_trace_get_stats(&s);
        tally published;
        drain(&published, s.ticks_per_second);
        if (stopped != 1 || published.batches != 1)
            bad_stops++;
        CHECK_EQ(sp_trace_release(), SP_OK);
    }
    CHECK_EQ(bad_releases, 0);
    CHECK_EQ(bad_stops, 0);
    CHECK_EQ(sp_trace_release(), SP_ESTATE); /* nothing left */
}

/* Bad arguments, and calls out of turn. */
static void test_bad_calls(void)
{
    CHECK_EQ(sp_trace_start(0, 0), SP_EINVAL);
    CHECK_EQ(sp_trace_start(1, 0), SP_EINVAL); /* less than a batch */
    CHECK_EQ(sp_trace_start(64 << 10, 2), SP_EINVAL);
    CHECK_EQ(sp_trace_stop(), SP_ESTATE);
    CHECK_EQ(sp_trace_release(), SP_ESTATE);
    CHECK(sp_trace_take() == NULL);
    sp_trace_give(NULL);
    sp_trace_get_stats(NULL);
    sp_trace_mark(SP_TRACE_MARK_IDLE, 0, 0);        /* no trace: nothing */
    sp_trace_record_event(SP_TRACE_CREATE, 1, 0, 0, 0);
    CHECK(sp_trace_now() != 0 || sp_trace_now() != 0);
    /* Decoding: no bytes for bytes, negative sizes, too little room, records
       the bytes do not hold. */
    sp_trace_record out[4];
    const uint8_t event[] = { SP_TRACE_IDLE, 0, 0, 0, 2, 1, 0, 0 }; /* ticks +1, processor 0 */
    CHECK_EQ(sp_trace_decode(NULL, 8, 1, 0, out, 4), SP_EINVAL);
    CHECK_EQ(sp_trace_decode(event, -1, 1, 0, out, 4), SP_EINVAL);
    CHECK_EQ(sp_trace_decode(event, sizeof event, -1, 0, out, 4), SP_EINVAL);
    CHECK_EQ(sp_trace_decode(event, sizeof event, 1, 0, out, 0), SP_EINVAL);
    CHECK_EQ(sp_trace_decode(event, sizeof event, 1, 0, NULL, 4), SP_EINVAL);
    CHECK_EQ(sp_trace_decode(event, sizeof event, 2, 0, out, 4), SP_EINVAL);
    CHECK_EQ(sp_trace_decode(event, sizeof event, 1, 10, out, 4), 1);
    CHECK_EQ(out[0].kind, SP_TRACE_IDLE);
    CHECK_EQ(out[0].ticks, 11);
    CHECK_EQ(out[0].processor, 0);
    CHECK_EQ(sp_trace_decode(NULL, 0, 0, 0, NULL, 0), 0);
}

int main(void)
{
    RUN(test_bad_calls);
    RUN(test_pingpong_is_traced);
    RUN(test_two_processors);
    RUN(test_tiny_buffer_drops_and_counts);
    RUN(test_flight_recorder_keeps_the_last);
    RUN(test_racing_starts_stops_and_releases);
    return test_summary();
}
