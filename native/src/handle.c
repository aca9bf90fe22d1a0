/* The one handle table: every channel, mutex and wait group, whoever made
   it (a native goroutine or C#), is named by a handle of (generation << 32)
   | (kind << 28) | (slot + 1). The kind bits keep handles of different kinds
   apart; the generation, bumped each time a slot is reused, makes a released
   handle stale rather than a name for the slot's next object. Lookups take
   no lock (every channel operation makes one): entries sit in chunks that
   are never freed, objects in pools that are never given back to the system,
   and a lookup checks the object's own handle again under its lock.
   Also here: releasing objects, whoever owns them. */
#include "engine.h"

#include <stdlib.h>

#define CHUNK_SLOTS 4096u
#define CHUNKS ((SP_HANDLE_SLOTS + CHUNK_SLOTS - 1) / CHUNK_SLOTS)

typedef struct entry {
    _Atomic uint64_t handle;
    sp_object *_Atomic object;
    uint32_t generation;
    uint32_t next_free; /* slot + 1 of the next free slot, 0: none (under the lock) */
} entry;

static entry *_Atomic chunks[CHUNKS];
static sp_lock table_lock;
static uint32_t slots_used;
static uint32_t first_free; /* slot + 1, 0: none */

static entry *entry_at(uint32_t slot)
{
    entry *chunk = atomic_load_explicit(&chunks[slot / CHUNK_SLOTS], memory_order_acquire);
    return chunk != NULL ? &chunk[slot % CHUNK_SLOTS] : NULL;
}

int sp_handle_add(sp_object *o)
{
    sp_lock_acquire(&table_lock);
    uint32_t slot;
    entry *e;
    if (first_free != 0) {
        slot = first_free - 1;
        e = entry_at(slot);
        first_free = e->next_free;
    } else {
        if (slots_used >= SP_HANDLE_SLOTS) {
            sp_lock_release(&table_lock);
            return SP_ENOMEM;
        }
        slot = slots_used;
        if (entry_at(slot) == NULL) {
            entry *chunk = calloc(CHUNK_SLOTS, sizeof *chunk);
            if (chunk == NULL) {
                sp_lock_release(&table_lock);
                return SP_ENOMEM;
            }
            atomic_store_explicit(&chunks[slot / CHUNK_SLOTS], chunk, memory_order_release);
        }
        slots_used++;
        e = entry_at(slot);
    }
    if (++e->generation == 0)
        e->generation = 1;
    uint64_t handle = (uint64_t)e->generation << 32 | (uint64_t)(uint32_t)o->kind << SP_HANDLE_SLOT_BITS |
                      (uint64_t)(slot + 1);
    o->handle = handle;
    /* The object first: a reader that sees the handle sees its object. */
    atomic_store_explicit(&e->object, o, memory_order_release);
    atomic_store_explicit(&e->handle, handle, memory_order_release);
    sp_lock_release(&table_lock);
    return SP_OK;
}

void sp_handle_remove(sp_object *o)
{
    uint64_t handle = o->handle;
    if (handle == 0)
        return;
    uint32_t slot = (uint32_t)(handle & SP_HANDLE_SLOTS) - 1;
    entry *e = entry_at(slot);
    o->handle = 0;
    sp_lock_acquire(&table_lock);
    atomic_store_explicit(&e->handle, 0, memory_order_release);
    e->next_free = first_free;
    first_free = slot + 1;
    sp_lock_release(&table_lock);
}

sp_object *sp_handle_find(uint64_t handle, int32_t kind, int *err)
{
    uint32_t slot1 = (uint32_t)(handle & SP_HANDLE_SLOTS);
    if (handle == 0 || sp_handle_kind(handle) != kind || slot1 == 0) {
        *err = SP_EINVAL;
        return NULL;
    }
    *err = SP_ESTALE;
    entry *e = entry_at(slot1 - 1);
    if (e == NULL || atomic_load_explicit(&e->handle, memory_order_acquire) != handle)
        return NULL;
    return atomic_load_explicit(&e->object, memory_order_acquire);
}

sp_object *sp_handle_lock(uint64_t handle, int32_t kind, int *err)
{
    sp_object *o = sp_handle_find(handle, kind, err);
    if (o == NULL)
        return NULL;
    object_lock(o);
    if (o->handle == handle)
        return o;
    object_unlock(o);
    *err = SP_ESTALE; /* released, and perhaps reused, since the lookup */
    return NULL;
}

void sp_handle_each(void (*visit)(sp_object *o, void *arg), void *arg)
{
    uint32_t n = __atomic_load_n(&slots_used, __ATOMIC_ACQUIRE);
    for (uint32_t slot = 0; slot < n; slot++) {
        entry *e = entry_at(slot);
        if (e != NULL && atomic_load_explicit(&e->handle, memory_order_acquire) != 0)
            visit(atomic_load_explicit(&e->object, memory_order_acquire), arg);
    }
}

/* ---- releasing ------------------------------------------------------------------ */

/* Completes every party waiting in q with result (under the object's lock). */
void sp_waitq_fail_all(sp_waitq *q, int32_t result, sp_wake_ctx *c)
{
    for (sp_waiter *w; (w = sp_waitq_take(q)) != NULL;)
        sp_wake_later(c, w->party, result);
}

void sp_object_release_locked(sp_object *o, sp_wake_ctx *c)
{
    switch (o->kind) {
    case SP_HANDLE_CHAN:
        sp_chan_release_locked((sp_chan_state *)o, c);
        break;
    case SP_HANDLE_MUTEX:
        sp_waitq_fail_all(&((sp_mutex_state *)o)->waiters, SP_ESTALE, c);
        sp_handle_remove(o);
        object_unlock(o);
        sp_mutex_free((sp_mutex_state *)o);
        break;
    default:
        sp_waitq_fail_all(&((sp_wg_state *)o)->waiters, SP_ESTALE, c);
        sp_handle_remove(o);
        object_unlock(o);
        sp_wg_free((sp_wg_state *)o);
        break;
    }
}

int sp_object_release(uint64_t handle, int32_t kind, sp_sched *owner, sp_wake_ctx *c)
{
    int err;
    sp_object *o = sp_handle_lock(handle, kind, &err);
    if (o == NULL)
        return err;
    if (o->owner != owner) {
        object_unlock(o);
        return SP_EINVAL; /* not the caller's to release */
    }
    if (owner != NULL && sp_object_has_waiters(o)) {
        object_unlock(o);
        return SP_ESTATE;
    }
    sp_object_release_locked(o, c);
    return SP_OK;
}

int sp_host_release(uint64_t handle, sp_wakes *out)
{
    if (out == NULL)
        return SP_EINVAL;
    sp_wake_ctx c = sp_wake_ctx_host(NULL);
    int err = sp_object_release(handle, sp_handle_kind(handle), NULL, &c);
    sp_wake_flush(&c);
    sp_wake_ctx_host_end(&c, out);
    return err;
}

typedef struct release_call {
    sp_sched *owner;
    sp_wake_ctx *c;
} release_call;

static void release_if_owned(sp_object *o, void *arg)
{
    release_call *r = arg;
    if (o == NULL || o->owner != r->owner)
        return;
    uint64_t handle = __atomic_load_n(&o->handle, __ATOMIC_ACQUIRE);
    int err;
    sp_object *locked = sp_handle_lock(handle, o->kind, &err);
    if (locked == NULL)
        return;
    if (locked->owner == r->owner)
        sp_object_release_locked(locked, r->c);
    else
        object_unlock(locked);
}

void sp_sched_release_objects(sp_sched *s, sp_wakes *out)
{
    if (s == NULL || out == NULL)
        return;
    sp_wake_ctx c = sp_wake_ctx_host(NULL);
    release_call r = { .owner = s, .c = &c };
    sp_handle_each(release_if_owned, &r);
    sp_wake_flush(&c);
    sp_wake_ctx_host_end(&c, out);
}

int sp_host_mark_outside(uint64_t handle)
{
    int err;
    sp_object *o = sp_handle_lock(handle, sp_handle_kind(handle), &err);
    if (o == NULL)
        return err;
    o->outside = 1;
    object_unlock(o);
    return SP_OK;
}

int sp_host_check(uint64_t handle, int32_t kind)
{
    int err;
    return sp_handle_find(handle, kind, &err) != NULL ? SP_OK : err;
}
