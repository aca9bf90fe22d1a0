/* A handle mirror: slot (the handle's low 32 bits - 1) -> (handle, object),
   in chunks allocated on first use and read without a lock, so that a
   goroutine finds the native state of a channel or wait group named by a
   managed handle without a runtime call. Each kind of object has its own. */
#ifndef SPINDLE_HANDLE_MIRROR_H
#define SPINDLE_HANDLE_MIRROR_H

#include "coro_internal.h"

#include <stdatomic.h>
#include <stddef.h>

#define SP_MIRROR_CHUNK (1u << 16)
#define SP_MIRROR_CHUNKS 1024 /* 64 Mi handles */

typedef struct sp_mirror_entry {
    _Atomic uint64_t handle;
    void *_Atomic object;
} sp_mirror_entry;

typedef struct sp_mirror {
    sp_mirror_entry *_Atomic chunks[SP_MIRROR_CHUNKS];
    sp_lock chunk_lock;
} sp_mirror;

/* The object published under handle, or NULL. Its owner may release it at
   any moment: lock it and compare its own handle before trusting it (objects
   are kept on free lists, never returned to the system). */
static inline void *sp_mirror_lookup(sp_mirror *m, uint64_t handle)
{
    uint32_t slot = (uint32_t)handle - 1;
    if ((uint32_t)handle == 0 || slot / SP_MIRROR_CHUNK >= SP_MIRROR_CHUNKS)
        return NULL;
    sp_mirror_entry *chunk = atomic_load_explicit(&m->chunks[slot / SP_MIRROR_CHUNK], memory_order_acquire);
    if (chunk == NULL)
        return NULL;
    sp_mirror_entry *e = &chunk[slot % SP_MIRROR_CHUNK];
    if (atomic_load_explicit(&e->handle, memory_order_acquire) != handle)
        return NULL;
    return atomic_load_explicit(&e->object, memory_order_acquire);
}

/* The object published under handle, locked, or NULL: looked up, its lock
   (its first word, an sp_lock) taken, and its own handle (the uint64_t at
   handle_offset) compared, since it may have been released and reused
   between the lookup and the lock. */
static inline void *sp_mirror_lock_published(sp_mirror *m, uint64_t handle, size_t handle_offset)
{
    void *object = sp_mirror_lookup(m, handle);
    if (object == NULL)
        return NULL;
    sp_lock_acquire((sp_lock *)object);
    if (*(const uint64_t *)((const char *)object + handle_offset) == handle)
        return object;
    sp_lock_release((sp_lock *)object);
    return NULL;
}

/* Publishes object under handle: SP_OK, SP_EINVAL (handle 0 or beyond the
   mirror's range), SP_ENOMEM. */
SP_HIDDEN int sp_mirror_publish(sp_mirror *m, uint64_t handle, void *object);
/* Withdraws handle; ignored when something else is published in its slot. */
SP_HIDDEN void sp_mirror_unpublish(sp_mirror *m, uint64_t handle);

#endif
