/*
 * select, after Go's runtime/select.go (selectgo).
 *
 * One party waits on every case at once. The protocol:
 *   1. Each case's channel is looked up by its handle; a nil channel makes a
 *      case that is never ready.
 *   2. The channels' locks are taken in address order (each once, however
 *      many cases name it), so that two selects over the same channels can
 *      never each hold a lock the other waits for. Each handle is checked
 *      again under its lock: one released meanwhile gives SP_ESTALE.
 *   3. The cases are polled in a uniformly random order, and the first that
 *      can proceed is performed with chan.c's rules, exactly as a send or
 *      receive would be. Random order is what makes the choice among ready
 *      cases uniform, and it keeps one busy channel from starving the rest.
 *   4. With nothing ready, a select with a default case returns ncases.
 *   5. Otherwise the party queues one waiter on every case's channel, and
 *      parks; the locks are released once it is switched out (or, for a host
 *      party, at once, and the host is told SP_PARKED).
 *   6. A counterpart that takes one of those waiters out of its queue claims
 *      the party (a compare-and-swap, Go's selectDone): the first claim wins,
 *      performs its case and wakes the party; later ones skip that waiter.
 *   7. The woken party takes its other waiters out of their queues, one lock
 *      at a time (sp_party_finish), before its memory is reused.
 *
 * A goroutine's select runs on the thread's own stack (sp_systemstack): the
 * lock and poll orders and the waiters of every case are more than the
 * reserve below a 2 KiB segment holds, and they live, while it waits, in a
 * block its processor keeps for the next select. It parks on its own stack.
 *
 * Alternatives rejected: polling the cases in their order (the first ready
 * case would always win), a global select lock (every select would contend
 * on it), sorting with qsort (it needs a comparison context that C does not
 * carry portably; this is Go's heap sort, with an insertion sort for the
 * few locks most selects take).
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

/* What one select needs while it runs and while it waits. */
typedef struct select_block {
    int32_t room;       /* cases it has room for */
    int32_t nlocks;     /* entries of lock_order */
    int32_t *lock_order;
    int32_t *poll_order;
    sp_chan_state **states;
    sp_waiter *waiters;
} select_block;

static size_t block_bytes(int32_t n)
{
    return sizeof(select_block) + (size_t)n * (2 * sizeof(int32_t) + sizeof(sp_chan_state *) + sizeof(sp_waiter));
}

static void block_layout(select_block *b, int32_t n)
{
    char *p = (char *)(b + 1);
    b->room = n;
    b->waiters = (sp_waiter *)p;
    p += (size_t)n * sizeof(sp_waiter);
    b->states = (sp_chan_state **)p;
    p += (size_t)n * sizeof(sp_chan_state *);
    b->lock_order = (int32_t *)p;
    p += (size_t)n * sizeof(int32_t);
    b->poll_order = (int32_t *)p;
}

/* ---- randomness: a xorshift per thread --------------------------------------- */

static SP_THREAD_LOCAL uint64_t tls_rand;

static uint32_t random_below(uint32_t n)
{
    uint64_t x = tls_rand;
    if (x == 0)
        x = (uint64_t)sp_clock_now() ^ (uint64_t)(uintptr_t)&tls_rand ^ 0x9e3779b97f4a7c15u;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    tls_rand = x;
    return (uint32_t)(((x >> 32) * (uint64_t)n) >> 32);
}

/* ---- the lock order: case indices sorted by channel address ------------------- */

enum { SMALL_SELECT = 8 }; /* up to this many locks, an insertion sort */

static void sift(int32_t *order, sp_chan_state *const *states, int32_t i, int32_t n)
{
    int32_t v = order[i];
    for (;;) {
        int32_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && states[order[child + 1]] > states[order[child]])
            child++;
        if (states[order[child]] <= states[v])
            break;
        order[i] = order[child];
        i = child;
    }
    order[i] = v;
}

static void sort_lock_order(int32_t *order, sp_chan_state *const *states, int32_t n)
{
    if (n <= SMALL_SELECT) {
        /* Most selects have a few cases: an insertion sort does them in a
           handful of comparisons, where the heap's setup costs more. */
        for (int32_t i = 1; i < n; i++) {
            int32_t v = order[i], j = i;
            for (; j > 0 && states[order[j - 1]] > states[v]; j--)
                order[j] = order[j - 1];
            order[j] = v;
        }
        return;
    }
    for (int32_t i = n / 2 - 1; i >= 0; i--)
        sift(order, states, i, n);
    for (int32_t end = n - 1; end > 0; end--) {
        int32_t top = order[0];
        order[0] = order[end];
        order[end] = top;
        sift(order, states, 0, end);
    }
}

/* Releases the locks of a select (the parked goroutine's unlock, run once it
   is switched out). The first lock released may let a counterpart wake the
   goroutine, but it finishes its select (sp_party_finish, then b reused or
   freed) only once it has taken each lock still held. So the lock of the
   highest address, the last in lock order, goes last, and nothing of b is
   read after it. */
static void unlock_all(void *arg)
{
    select_block *b = arg;
    int32_t n = b->nlocks;
    if (n == 0)
        return;
    sp_chan_state *final = b->states[b->lock_order[n - 1]];
    sp_chan_state *last = NULL;
    for (int32_t i = 0; i < n; i++) {
        sp_chan_state *ch = b->states[b->lock_order[i]];
        if (ch == final)
            break; /* it and its repeats close the order */
        if (ch != last)
            object_unlock(&ch->obj);
        last = ch;
    }
    object_unlock(&final->obj);
}

/* Steps 1 to 5 of the protocol. Returns SP_OK with *chosen performed (its
   receive's ok in *ok), SP_WOULD_BLOCK with nothing ready and no waiting
   (the default case, or no party), SP_PARKED with the party's waiters
   queued and every lock still held (*outside: whether a thread outside the
   runtime may end the wait), or an error; with anything but SP_PARKED the
   locks are released and c is flushed. */
static int select_core(sp_case *cases, int32_t n, bool block, sp_party *party, select_block *b,
                       sp_wake_ctx *c, int *chosen, bool *ok, int *outside)
{
    int32_t nlocks = 0;
    for (int32_t i = 0; i < n; i++) {
        if (cases[i].dir != SP_SEND && cases[i].dir != SP_RECV)
            return SP_EINVAL;
        b->states[i] = NULL;
        if (cases[i].ch == 0)
            continue;
        int err;
        b->states[i] = (sp_chan_state *)sp_handle_find(cases[i].ch, SP_HANDLE_CHAN, &err);
        if (b->states[i] == NULL)
            return err;
        b->lock_order[nlocks++] = i;
    }
    sort_lock_order(b->lock_order, b->states, nlocks);
    b->nlocks = 0;
    int err = SP_OK;
    for (int32_t k = 0; k < nlocks; k++) {
        int32_t i = b->lock_order[k];
        sp_chan_state *ch = b->states[i];
        if (k == 0 || b->states[b->lock_order[k - 1]] != ch)
            object_lock(&ch->obj);
        b->nlocks = k + 1;
        if (ch->obj.handle != cases[i].ch)
            err = SP_ESTALE; /* released since the lookup */
        else if (cases[i].dir == SP_SEND && cases[i].elem == NULL && ch->elem_size != 0)
            err = SP_EINVAL;
        if (err != SP_OK) {
            unlock_all(b);
            return err;
        }
    }
    /* Fisher-Yates, inside out. */
    for (int32_t i = 0; i < n; i++) {
        int32_t j = (int32_t)random_below((uint32_t)i + 1);
        b->poll_order[i] = b->poll_order[j];
        b->poll_order[j] = i;
    }
    for (int32_t k = 0; k < n; k++) {
        int32_t i = b->poll_order[k];
        sp_chan_state *ch = b->states[i];
        if (ch == NULL)
            continue;
        int result = SP_OK;
        int done = cases[i].dir == SP_SEND ? sp_chan_try_send_locked(ch, cases[i].elem, c, &result)
                                           : sp_chan_try_recv_locked(ch, cases[i].elem, ok, c);
        if (done) {
            unlock_all(b);
            sp_wake_flush(c);
            *chosen = i;
            return result;
        }
    }
    if (!block || party == NULL) {
        unlock_all(b);
        *chosen = n;
        return SP_WOULD_BLOCK;
    }
    *outside = 0;
    sp_party_arm(party);
    for (int32_t i = 0; i < n; i++) {
        sp_waiter *w = &b->waiters[i];
        *w = (sp_waiter){ .party = party, .elem = cases[i].elem, .index = i, .is_send = cases[i].dir == SP_SEND };
        sp_chan_state *ch = b->states[i];
        if (ch == NULL)
            continue;
        sp_waitq_push(w->is_send ? &ch->sendq : &ch->recvq, w);
        *outside |= ch->obj.outside;
    }
    return SP_PARKED;
}

static int check_cases(const sp_case *cases, int ncases)
{
    if (ncases < 0 || ncases > SP_SELECT_MAX_CASES || (cases == NULL && ncases > 0))
        return SP_EINVAL;
    return SP_OK;
}

static int32_t wait_reason(const sp_case *cases, int n)
{
    if (n == 0)
        return SP_WAIT_SELECT_NO_CASES;
    if (n > 1)
        return SP_WAIT_SELECT;
    if (cases[0].ch == 0)
        return cases[0].dir == SP_SEND ? SP_WAIT_CHAN_SEND_NIL : SP_WAIT_CHAN_RECV_NIL;
    return cases[0].dir == SP_SEND ? SP_WAIT_CHAN_SEND : SP_WAIT_CHAN_RECV;
}

/* ---- a goroutine's select ------------------------------------------------------- */

typedef struct goroutine_select {
    sp_case *cases;
    int32_t n;
    bool block;
    sp_party *party;
    select_block *b;
    int rc, chosen, outside;
    bool ok;
} goroutine_select;

/* A block for n cases: the one the goroutine's processor keeps, or a new one. */
static select_block *take_block(int32_t n)
{
    sp_runq *q = NULL;
    int may_switch = 0;
    select_block *b = NULL;
    if (sp_run_current(&q, &may_switch) != NULL && may_switch && q->select_block != NULL &&
        ((select_block *)q->select_block)->room >= n) {
        b = q->select_block;
        q->select_block = NULL;
        return b;
    }
    b = malloc(block_bytes(n));
    if (b != NULL)
        block_layout(b, n);
    return b;
}

/* Gives a block back to the processor running the goroutine, or frees it. */
static void give_block(select_block *b)
{
    sp_runq *q = NULL;
    int may_switch = 0;
    if (sp_run_current(&q, &may_switch) != NULL && may_switch && q->select_block == NULL) {
        q->select_block = b;
        return;
    }
    free(b);
}

static void select_on_system_stack(void *arg)
{
    goroutine_select *s = arg;
    s->b = take_block(s->n);
    if (s->b == NULL) {
        s->rc = SP_ENOMEM;
        return;
    }
    s->party->waiters = s->b->waiters;
    s->party->ncases = s->n;
    sp_wake_ctx c;
    sp_wake_ctx_begin(&c);
    s->rc = select_core(s->cases, s->n, s->block, s->party, s->b, &c, &s->chosen, &s->ok, &s->outside);
    sp_wake_ctx_end(&c);
    if (s->rc != SP_PARKED)
        give_block(s->b);
}

static void finish_on_system_stack(void *arg)
{
    goroutine_select *s = arg;
    sp_party_finish(s->party);
    give_block(s->b);
}

int sp_select(sp_case *cases, int ncases, bool has_default)
{
    sp_party p;
    if (sp_party_of_goroutine(&p, NULL, 0) == NULL)
        return SP_ENOTGOROUTINE;
    int err = check_cases(cases, ncases);
    if (err != SP_OK)
        return err;
    if (ncases == 0) {
        if (has_default)
            return 0;
        sp_park(&p, NULL, NULL, SP_WAIT_SELECT_NO_CASES, 0); /* Go's select {}: forever */
        return SP_OK;
    }
    goroutine_select s = { .cases = cases, .n = ncases, .block = !has_default, .party = &p };
    sp_systemstack(select_on_system_stack, &s);
    if (s.rc == SP_WOULD_BLOCK)
        return ncases; /* the default case */
    if (s.rc != SP_PARKED) {
        if (s.rc == SP_OK && cases[s.chosen].dir == SP_RECV && cases[s.chosen].ok != NULL)
            *cases[s.chosen].ok = s.ok;
        return s.rc == SP_OK ? s.chosen : s.rc;
    }
    sp_park(&p, unlock_all, s.b, wait_reason(cases, ncases), s.outside);
    sp_systemstack(finish_on_system_stack, &s);
    if (p.result != SP_OK)
        return p.result;
    if (cases[p.chosen].dir == SP_RECV && cases[p.chosen].ok != NULL)
        *cases[p.chosen].ok = p.ok != 0;
    return p.chosen;
}

/* ---- a host party's select ------------------------------------------------------- */

enum { HOST_INLINE_CASES = 16 };

int sp_host_select(sp_runq *here, sp_case *cases, int ncases, bool block, int *chosen, sp_party *party,
                   sp_wakes *out)
{
    if (chosen == NULL || out == NULL || (party != NULL && party->ncases < ncases))
        return SP_EINVAL;
    int err = check_cases(cases, ncases);
    if (err != SP_OK)
        return err;
    *chosen = ncases;
    if (ncases == 0)
        return block && party != NULL ? SP_PARKED : SP_WOULD_BLOCK;
    /* The caller is on its own stack: a small select's orders live here. */
    union {
        select_block b;
        char bytes[sizeof(select_block) + HOST_INLINE_CASES * (2 * sizeof(int32_t) + sizeof(void *) + sizeof(sp_waiter))];
    } inline_block;
    select_block *b = ncases <= HOST_INLINE_CASES ? &inline_block.b : malloc(block_bytes(ncases));
    if (b == NULL)
        return SP_ENOMEM;
    block_layout(b, ncases);
    if (party != NULL)
        b->waiters = party->waiters; /* the host's: they wait in the queues */
    sp_wake_ctx c = sp_wake_ctx_host(here);
    bool ok = false;
    int outside = 0;
    int rc = select_core(cases, ncases, block, party, b, &c, chosen, &ok, &outside);
    if (rc == SP_PARKED) {
        unlock_all(b);
    } else if (rc == SP_OK) {
        if (party != NULL)
            party->ok = ok;
        if (cases[*chosen].dir == SP_RECV && cases[*chosen].ok != NULL)
            *cases[*chosen].ok = ok;
    }
    if (b != &inline_block.b)
        free(b);
    sp_wake_ctx_host_end(&c, out);
    return rc;
}
