/* Pools of descriptors with their stacks: a per-thread cache in front of a
   global overflow pool, so that creating a coroutine from a warm pool makes
   no system call and takes no lock. Only default-sized stacks are pooled. */
#include "coro_internal.h"
#include "spindle_host.h" /* sp_stack_stats */

#include <stdatomic.h>

enum {
    THREAD_CACHE_MAX = 64,    /* per thread, taken and given without a lock */
    GLOBAL_POOL_MAX = 1024,   /* beyond this, stacks go back to the system */
    TRANSFER_BATCH = 32       /* moved between the two under one lock */
};

typedef struct unit_list {
    sp_coro *head;
    size_t count;
} unit_list;

static SP_THREAD_LOCAL unit_list tls_cache;

static sp_lock global_lock;
static unit_list global_pool;

static void push(unit_list *l, sp_coro *co)
{
    co->pool_next = l->head;
    l->head = co;
    l->count++;
}

static sp_coro *pop(unit_list *l)
{
    sp_coro *co = l->head;
    if (co != NULL) {
        l->head = co->pool_next;
        l->count--;
    }
    return co;
}

static void release_unit(sp_coro *co)
{
    sp_stack st = co->stack; /* the descriptor lives inside the mapping */
    sp_stack_unmap(&st);
}

static void refill_from_global(void)
{
    sp_lock_acquire(&global_lock);
    for (int i = 0; i < TRANSFER_BATCH && global_pool.head != NULL; i++)
        push(&tls_cache, pop(&global_pool));
    sp_lock_release(&global_lock);
}

static void spill_to_global(void)
{
    sp_coro *spilled = NULL;
    sp_lock_acquire(&global_lock);
    for (int i = 0; i < TRANSFER_BATCH && tls_cache.head != NULL; i++) {
        sp_coro *co = pop(&tls_cache);
        if (global_pool.count < GLOBAL_POOL_MAX) {
            push(&global_pool, co);
        } else {
            co->pool_next = spilled;
            spilled = co;
        }
    }
    sp_lock_release(&global_lock);
    while (spilled != NULL) {
        sp_coro *next = spilled->pool_next;
        release_unit(spilled);
        spilled = next;
    }
}

/* Moves the thread's cache into the global pool when the thread exits. */
void sp_pool_thread_exit(void)
{
    while (tls_cache.head != NULL)
        spill_to_global();
}

static int poolable(size_t max_stack, size_t initial_commit)
{
    return max_stack == SP_DEFAULT_MAX_STACK && initial_commit <= sp_page_size();
}

/* ---- stack accounting ------------------------------------------------------ */

static sp_stack_slot stack_slots[SP_STACK_SLOTS] = { [SP_STACK_SLOTS - 1] = { .shared = 1 } };
static _Atomic int stack_slots_used;
SP_THREAD_LOCAL sp_stack_slot *sp_tls_stack_slot;

sp_stack_slot *sp_stack_slot_claim(void)
{
    int i = __atomic_fetch_add(&stack_slots_used, 1, __ATOMIC_RELAXED);
    if (i >= SP_STACK_SLOTS - 1)
        i = SP_STACK_SLOTS - 1; /* shared, with locked adds */
    sp_tls_stack_slot = &stack_slots[i];
    return sp_tls_stack_slot;
}

void sp_stack_stats(int64_t *segmented, int64_t *reserved, int64_t *grown)
{
    int64_t seg = 0, res = 0, gr = 0;
    for (int i = 0; i < SP_STACK_SLOTS; i++) {
        seg += __atomic_load_n((int64_t *)&stack_slots[i].segmented, __ATOMIC_RELAXED);
        res += __atomic_load_n((int64_t *)&stack_slots[i].reserved, __ATOMIC_RELAXED);
        gr += __atomic_load_n((int64_t *)&stack_slots[i].grown, __ATOMIC_RELAXED);
    }
    if (segmented != NULL)
        *segmented = seg;
    if (reserved != NULL)
        *reserved = res;
    if (grown != NULL)
        *grown = gr;
}

/* ---- reserved stacks --------------------------------------------------------- */

static sp_coro *take_stack(size_t max_stack, size_t initial_commit)
{
    if (poolable(max_stack, initial_commit)) {
        if (tls_cache.head == NULL)
            refill_from_global();
        sp_coro *co = pop(&tls_cache);
        if (co != NULL)
            return co;
    }
    sp_stack st;
    if (sp_stack_map(&st, max_stack, initial_commit) != SP_OK)
        return NULL;
    sp_coro *co = (sp_coro *)st.top;
    co->stack = st;
    co->pool_next = NULL;
    return co;
}

sp_coro *sp_pool_take(size_t max_stack, size_t initial_commit)
{
    sp_coro *co = take_stack(max_stack, initial_commit);
    if (co != NULL)
        sp_stack_account(0, (int64_t)co->stack.usable, 0);
    return co;
}

void sp_pool_give(sp_coro *co)
{
    sp_stack_account(0, -(int64_t)co->stack.usable, 0);
    if (!poolable(co->stack.requested, co->stack.committed)) {
        release_unit(co);
        return;
    }
    /* A coroutine that never ran wrote nothing but its first frame. */
    sp_stack_clean(&co->stack, co->state == SP_STATE_NEW ? (const char *)co->sp : NULL);
    sp_arm_thread_exit(sp_pool_thread_exit);
    if (tls_cache.count >= THREAD_CACHE_MAX)
        spill_to_global();
    push(&tls_cache, co);
}
