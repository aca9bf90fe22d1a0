/* Per-processor timer heaps (timer.h): a binary heap of timers by deadline,
   under the heap's lock. */
#include "timer.h"

#include <stdlib.h>

static void set_next(sp_timers *h)
{
    int64_t ns = h->count > 0 ? h->heap[0]->when : INT64_MAX;
    atomic_store_explicit(&h->next_ns, ns, memory_order_relaxed);
    atomic_store_explicit(&h->next_ms, ns == INT64_MAX ? INT64_MAX : ns / 1000000, memory_order_relaxed);
}

/* A timer's heap pointer is read without any lock by sp_timer_remove, which
   takes the lock of the heap it names: it is written atomically, under that
   heap's lock, and goes from one heap straight to another (a move), or to
   NULL once no heap holds the timer or will touch it again. So NULL is
   stored last, with release: whoever reads it may free the timer. A timer
   firing stays its heap's (it is out of the array meanwhile). */
static void set_heap(sp_timer *t, sp_timers *h) { __atomic_store_n(&t->heap, h, __ATOMIC_RELEASE); }

void sp_timers_init(sp_timers *h)
{
    h->count = 0;
    h->room = 0;
    h->heap = NULL;
    set_next(h);
}

void sp_timers_destroy(sp_timers *h)
{
    for (int32_t i = 0; i < h->count; i++)
        set_heap(h->heap[i], NULL);
    free(h->heap);
    h->heap = NULL;
    h->count = h->room = 0;
    set_next(h);
}

static void place(sp_timers *h, int32_t i, sp_timer *t)
{
    h->heap[i] = t;
    t->index = i;
}

static void sift_up(sp_timers *h, int32_t i)
{
    sp_timer *t = h->heap[i];
    while (i > 0) {
        int32_t parent = (i - 1) / 2;
        if (h->heap[parent]->when <= t->when)
            break;
        place(h, i, h->heap[parent]);
        i = parent;
    }
    place(h, i, t);
}

static void sift_down(sp_timers *h, int32_t i)
{
    sp_timer *t = h->heap[i];
    for (;;) {
        int32_t child = 2 * i + 1;
        if (child >= h->count)
            break;
        if (child + 1 < h->count && h->heap[child + 1]->when < h->heap[child]->when)
            child++;
        if (h->heap[child]->when >= t->when)
            break;
        place(h, i, h->heap[child]);
        i = child;
    }
    place(h, i, t);
}

/* Grows the heap's array; on the thread's own stack (sp_systemstack): a
   goroutine on a 2 KiB segment adds its sleep here, and realloc is deep. */
typedef struct grow_call {
    sp_timers *h;
    int ok;
} grow_call;

static void grow(void *arg)
{
    grow_call *g = arg;
    int32_t room = g->h->room != 0 ? 2 * g->h->room : 16;
    sp_timer **heap = realloc(g->h->heap, (size_t)room * sizeof *heap);
    if (heap != NULL) {
        g->h->heap = heap;
        g->h->room = room;
        g->ok = 1;
    }
}

int sp_timers_add_locked(sp_timers *h, sp_timer *t, int64_t when)
{
    if (h->count == h->room) {
        grow_call g = { .h = h };
        sp_systemstack(grow, &g);
        if (!g.ok)
            return SP_ENOMEM;
    }
    t->when = when;
    set_heap(t, h);
    place(h, h->count++, t);
    sift_up(h, t->index);
    set_next(h);
    return SP_OK;
}

/* Takes the timer at i out of the array (under the lock); its heap pointer
   is the caller's to set. */
static void remove_at(sp_timers *h, int32_t i)
{
    sp_timer *t = h->heap[i];
    sp_timer *last = h->heap[--h->count];
    t->index = -1;
    if (i < h->count) {
        place(h, i, last);
        sift_down(h, i);
        sift_up(h, last->index);
    }
    set_next(h);
}

void sp_timer_remove(sp_timer *t)
{
    for (;;) {
        sp_timers *h = __atomic_load_n(&t->heap, __ATOMIC_ACQUIRE);
        if (h == NULL)
            return;
        sp_timers_lock(h);
        /* Still h's: in its array (a firing of it would hold the lock). */
        if (__atomic_load_n(&t->heap, __ATOMIC_RELAXED) == h) {
            remove_at(h, t->index);
            set_heap(t, NULL);
            sp_timers_unlock(h);
            return;
        }
        sp_timers_unlock(h); /* moved to another heap meanwhile: look again */
    }
}

void sp_timers_run(sp_timers *h, int64_t now, sp_wake_ctx *c)
{
    if (atomic_load_explicit(&h->next_ns, memory_order_relaxed) > now)
        return;
    sp_timers_lock(h);
    while (h->count > 0 && h->heap[0]->when <= now) {
        sp_timer *t = h->heap[0];
        /* Firing: still h's (index -1), so that sp_timer_remove waits for
           this run, which holds h's lock, to finish with it. */
        remove_at(h, 0);
        int64_t again = t->fire(t, now, c);
        /* A periodic one goes back (its slot was just freed); else the
           last touch of t. */
        if (again == 0 || sp_timers_add_locked(h, t, again) != SP_OK)
            set_heap(t, NULL);
    }
    sp_timers_unlock(h);
    sp_wake_flush(c);
}

void sp_timers_move(sp_timers *from, sp_timers *to)
{
    if (from == to)
        return;
    if (to == NULL) { /* dropped: they never fire */
        sp_timers_lock(from);
        while (from->count > 0) {
            sp_timer *t = from->heap[0];
            remove_at(from, 0);
            set_heap(t, NULL);
        }
        sp_timers_unlock(from);
        return;
    }
    /* In address order, so that two moves the other way cannot deadlock. */
    sp_timers *first = from < to ? from : to, *second = from < to ? to : from;
    sp_timers_lock(first);
    sp_timers_lock(second);
    while (from->count > 0) {
        sp_timer *t = from->heap[0];
        remove_at(from, 0);
        if (sp_timers_add_locked(to, t, t->when) != SP_OK) {
            /* No memory: it and the rest stay where they are (its slot in
               from was just freed, so this add takes no memory). */
            sp_timers_add_locked(from, t, t->when);
            break;
        }
    }
    sp_timers_unlock(second);
    sp_timers_unlock(first);
}
