/* Publishing in a handle mirror (handle_mirror.h has the lookup). */
#include "handle_mirror.h"

#include <stdlib.h>

static sp_mirror_entry *entry_of(sp_mirror *m, uint64_t handle, int make)
{
    uint32_t slot = (uint32_t)handle - 1;
    if ((uint32_t)handle == 0 || slot / SP_MIRROR_CHUNK >= SP_MIRROR_CHUNKS)
        return NULL;
    sp_mirror_entry *_Atomic *at = &m->chunks[slot / SP_MIRROR_CHUNK];
    sp_mirror_entry *chunk = atomic_load_explicit(at, memory_order_acquire);
    if (chunk == NULL && make) {
        sp_lock_acquire(&m->chunk_lock);
        chunk = atomic_load_explicit(at, memory_order_relaxed);
        if (chunk == NULL) {
            chunk = calloc(SP_MIRROR_CHUNK, sizeof *chunk);
            atomic_store_explicit(at, chunk, memory_order_release);
        }
        sp_lock_release(&m->chunk_lock);
    }
    return chunk != NULL ? &chunk[slot % SP_MIRROR_CHUNK] : NULL;
}

int sp_mirror_publish(sp_mirror *m, uint64_t handle, void *object)
{
    uint32_t slot = (uint32_t)handle - 1;
    if ((uint32_t)handle == 0 || slot / SP_MIRROR_CHUNK >= SP_MIRROR_CHUNKS)
        return SP_EINVAL;
    sp_mirror_entry *e = entry_of(m, handle, 1);
    if (e == NULL)
        return SP_ENOMEM;
    /* The object first: a reader that sees the handle sees its object. */
    atomic_store_explicit(&e->object, object, memory_order_release);
    atomic_store_explicit(&e->handle, handle, memory_order_release);
    return SP_OK;
}

void sp_mirror_unpublish(sp_mirror *m, uint64_t handle)
{
    sp_mirror_entry *e = entry_of(m, handle, 0);
    uint64_t expected = handle;
    if (e != NULL)
        atomic_compare_exchange_strong(&e->handle, &expected, 0);
}
