/* Segmented stacks on x86-64 Linux: where segments come from and where they
   go. 2 KiB units are carved from 64 KiB slabs and kept in a per-thread
   cache in front of a global pool, so growing a stack from a warm cache
   takes no lock and makes no system call. A frame too large for a unit gets
   a block mapped for it alone (pages committed as touched). The fast paths,
   reusing the cached next segment and stepping back, are __morestack's own
   (morestack_x86_64_linux.S); this file runs when they cannot. */
#define _GNU_SOURCE
#include "segment.h"
#if SP_HAVE_SEGMENTS
#include "sanitizer.h"
#include "trace.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

_Static_assert(offsetof(sp_segment, prev) == SP_SEG_PREV, "segment layout");
_Static_assert(offsetof(sp_segment, next) == SP_SEG_NEXT, "segment layout");
_Static_assert(offsetof(sp_segment, top) == SP_SEG_TOP, "segment layout");
_Static_assert(offsetof(sp_segment, co) == SP_SEG_CORO, "segment layout");
_Static_assert(offsetof(sp_segment, room) == SP_SEG_ROOM, "segment layout");
_Static_assert(offsetof(sp_segment, size) == SP_SEG_SIZE, "segment layout");
_Static_assert(sizeof(sp_segment) == SP_SEG_HEADER, "segment header");
_Static_assert(offsetof(sp_segment, canary) == SP_SEG_HEADER - 4, "the canary is the header's top");
_Static_assert(offsetof(sp_coro, system_sp_slot) == SP_CORO_SYSTEM_SP_SLOT, "descriptor layout");

enum {
    SLAB_BYTES = 64 * 1024,
    THREAD_CACHE_MAX = 128,   /* units per thread, taken and given without a lock */
    TRANSFER_BATCH = 64
};

/* The descriptor's place at the top of a first segment. */
#define DESCRIPTOR_SPACE ((sizeof(sp_coro) + 63) & ~(size_t)63)

typedef struct unit_list {
    sp_segment *head;
    size_t count;
} unit_list;

static SP_THREAD_LOCAL unit_list tls_units;
static SP_THREAD_LOCAL sp_segment *tls_large; /* one large block kept for reuse */
static sp_lock global_lock;
static unit_list global_units;

static void push(unit_list *l, sp_segment *s)
{
    s->next = l->head;
    l->head = s;
    l->count++;
}

static sp_segment *pop(unit_list *l)
{
    sp_segment *s = l->head;
    if (s != NULL) {
        l->head = s->next;
        l->count--;
    }
    return s;
}

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

/* A new slab's units go to the calling thread's cache. Slabs are kept for
   the life of the process: freed units are reused, not unmapped. */
static int carve_slab(void)
{
    char *slab = mmap(NULL, SLAB_BYTES, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (slab == MAP_FAILED)
        return 0;
    for (size_t off = SLAB_BYTES; off > 0; off -= SP_SEG_UNIT) {
        sp_segment *s = (sp_segment *)(slab + off - SP_SEG_UNIT);
        s->size = SP_SEG_UNIT;
        s->valgrind_id = SP_VG_STACK_REGISTER((char *)s, (char *)s + SP_SEG_UNIT);
        push(&tls_units, s);
    }
    return 1;
}

static sp_segment *take_unit(void)
{
    if (tls_units.head == NULL) {
        sp_lock_acquire(&global_lock);
        for (int i = 0; i < TRANSFER_BATCH && global_units.head != NULL; i++)
            push(&tls_units, pop(&global_units));
        sp_lock_release(&global_lock);
        if (tls_units.head == NULL && !carve_slab())
            return NULL;
        sp_arm_thread_exit(sp_segment_thread_exit);
    }
    sp_segment *s = pop(&tls_units);
    SP_VG_MAKE_DEFINED(s, SP_SEG_UNIT);
    return s;
}

static void spill_units(size_t keep)
{
    sp_lock_acquire(&global_lock);
    while (tls_units.count > keep)
        push(&global_units, pop(&tls_units));
    sp_lock_release(&global_lock);
}

static void give_unit(sp_segment *s)
{
    if (tls_units.count >= THREAD_CACHE_MAX)
        spill_units(THREAD_CACHE_MAX - TRANSFER_BATCH);
    sp_arm_thread_exit(sp_segment_thread_exit);
    push(&tls_units, s);
}

static void unmap_large(sp_segment *s)
{
    SP_VG_STACK_DEREGISTER(s->valgrind_id);
    munmap(s, s->size);
}

static sp_segment *take_large(size_t size)
{
    sp_segment *s = tls_large;
    if (s != NULL && s->size >= size && s->size <= 2 * size) {
        tls_large = NULL;
        SP_VG_MAKE_DEFINED(s, SP_SEG_HEADER);
        return s;
    }
    void *block = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (block == MAP_FAILED)
        return NULL;
    s = block;
    s->size = size;
    s->valgrind_id = SP_VG_STACK_REGISTER((char *)block, (char *)block + size);
    return s;
}

static void give_large(sp_segment *s)
{
    /* Its pages but the header's go back to the system; the mapping stays
       for the next use. */
    size_t page = sp_page_size();
    madvise((char *)s + page, s->size - page, MADV_DONTNEED);
    sp_segment *old = tls_large;
    tls_large = s;
    sp_arm_thread_exit(sp_segment_thread_exit);
    if (old != NULL)
        unmap_large(old);
}

/* An alloca or VLA that did not fit on its segment, on the heap. */
typedef struct sp_dynamic_block {
    struct sp_dynamic_block *next;
    const char *caller_sp;
    max_align_t data[];
} sp_dynamic_block;

/* Frees the blocks of frames below sp (0: all), which have returned. */
static void free_dynamic_below(sp_segment *s, const char *sp)
{
    sp_dynamic_block **link = &s->dynamic;
    while (*link != NULL) {
        sp_dynamic_block *b = *link;
        if (sp == NULL || b->caller_sp < sp) {
            *link = b->next;
            free(b);
        } else {
            link = &b->next;
        }
    }
}

void *sp_segment_alloca(sp_segment *seg, size_t size, const void *caller_sp)
{
    free_dynamic_below(seg, caller_sp);
    sp_dynamic_block *b = size < SIZE_MAX - sizeof *b ? malloc(sizeof *b + size) : NULL;
    if (b == NULL) {
        static const char msg[] = "spindle: fatal: no memory for a dynamic stack allocation\n";
        sp_write_stderr(msg, sizeof msg - 1);
        sp_exit_fatal();
    }
    b->caller_sp = caller_sp;
    b->next = seg->dynamic;
    seg->dynamic = b;
    return b->data;
}

static void give(sp_segment *s)
{
    free_dynamic_below(s, NULL);
    if (s->size == SP_SEG_UNIT)
        give_unit(s);
    else
        give_large(s);
}

void sp_segment_thread_exit(void)
{
    spill_units(0);
    if (tls_large != NULL) {
        unmap_large(tls_large);
        tls_large = NULL;
    }
}

/* A frame wrote past seg's reserve (see sp_fault_report_segment_overrun). */
static void check_canary(const sp_segment *seg, const sp_coro *co)
{
    if (seg->canary != SP_SEG_CANARY)
        sp_fault_report_segment_overrun(co);
}

static void init_segment(sp_segment *s, sp_segment *prev, sp_coro *co, char *top)
{
    s->canary = SP_SEG_CANARY;
    s->dynamic = NULL;
    s->prev = prev;
    s->next = NULL;
    s->co = co;
    s->top = top;
    s->room = (size_t)(top - sp_segment_limit(s));
}

/* memset of a descriptor, with plain stores: gcc turns a memset of this size
   into `rep stos`, whose start-up took 10% of a spawn-and-exit (every
   goroutine's first segment gets a descriptor). The volatile keeps the loop
   from being turned back into a memset. */
static void zero_descriptor(sp_coro *co)
{
    _Static_assert(sizeof *co % sizeof(uint64_t) == 0, "descriptor size");
    enum { WORDS = sizeof *co / sizeof(uint64_t) };
    volatile uint64_t *w = (volatile uint64_t *)co;
    size_t i = 0;
    for (; i + 4 <= WORDS; i += 4) { /* four a turn: under half the loop's instructions */
        w[i] = 0;
        w[i + 1] = 0;
        w[i + 2] = 0;
        w[i + 3] = 0;
    }
    for (; i < WORDS; i++)
        w[i] = 0;
}

sp_coro *sp_segment_take_first(size_t max_stack)
{
    sp_segment *s = take_unit();
    if (s == NULL)
        return NULL;
    sp_coro *co = (sp_coro *)((char *)s + SP_SEG_UNIT - DESCRIPTOR_SPACE);
    zero_descriptor(co);
    init_segment(s, NULL, co, (char *)co);
    co->kind = SP_STACK_SEGMENTED;
    co->segments = s;
    co->segment_bytes = SP_SEG_UNIT;
    co->segment_max = max_stack;
    sp_stack_account(SP_SEG_UNIT, 0, 0);
    return co;
}

/* Frees s and every deeper segment after it. */
static void give_chain(sp_coro *co, sp_segment *s)
{
    while (s != NULL) {
        sp_segment *next = s->next;
        co->segment_bytes -= s->size;
        sp_stack_account(-(int64_t)s->size, 0, 0);
        give(s);
        s = next;
    }
}

void sp_segment_give_all(sp_coro *co)
{
    sp_segment *first = co->segments;
    for (const sp_segment *s = first; s != NULL; s = s->next)
        check_canary(s, co);
    give_chain(co, first->next);
    co->segments = NULL;
    free_dynamic_below(first, NULL);
    sp_stack_account(-(int64_t)SP_SEG_UNIT, 0, 0);
    give_unit(first);
}

void sp_segment_reuse_first(sp_coro *co)
{
    sp_segment *first = co->segments;
    for (const sp_segment *s = first; s != NULL; s = s->next)
        check_canary(s, co);
    give_chain(co, first->next);
    free_dynamic_below(first, NULL);
    SP_VG_MAKE_DEFINED(first, SP_SEG_UNIT);
    init_segment(first, NULL, co, (char *)co);
}

sp_segment *sp_segment_grow(sp_segment *seg, size_t need)
{
    check_canary(seg, seg->co);
    sp_coro *co = seg->co;
    /* __morestack runs this on the thread's own stack, where sp_systemstack
       would run its function too: anything here that calls it (the tracer,
       handing a full batch over) must run in place, not over these frames. */
    int32_t was_on_system_stack = co->on_system_stack;
    co->on_system_stack = 1;
    if (seg->next != NULL) { /* kept, but too small for this frame */
        give_chain(co, seg->next);
        seg->next = NULL;
    }
    size_t size = need <= SP_SEG_UNIT - SP_SEG_LIMIT_OFFSET
                      ? SP_SEG_UNIT
                      : round_up(need + SP_SEG_LIMIT_OFFSET, sp_page_size());
    if (co->segment_bytes + size > co->segment_max || size < need)
        sp_fault_report_overflow(co, NULL);
    sp_segment *s = size == SP_SEG_UNIT ? take_unit() : take_large(size);
    if (s == NULL) {
        static const char msg[] = "spindle: fatal: no memory for a stack segment\n";
        sp_write_stderr(msg, sizeof msg - 1);
        sp_exit_fatal();
    }
    init_segment(s, seg, co, (char *)s + size);
    seg->next = s;
    co->segment_bytes += size;
    sp_stack_account((int64_t)size, 0, 1);
    if (sp_tracing())
        sp_trace_event(SP_TRACE_STACK, 0, (int64_t)size, 0, 0);
    co->on_system_stack = was_on_system_stack;
    return s;
}

void sp_segment_trim(sp_segment *seg)
{
    check_canary(seg, seg->co);
    give_chain(seg->co, seg->next);
    seg->next = NULL;
}

static void drop_next(void *seg)
{
    sp_segment *current = seg;
    give_chain(current->co, current->next);
    current->next = NULL;
}

void sp_segment_drop_large_cache(sp_coro *co)
{
    sp_segment *current;
    __asm__("movq %%fs:0x70, %0" : "=r"(current));
    current = sp_segment_of_limit(current);
    check_canary(current, co);
    /* Cheap test first; the freeing (free, madvise) runs on the thread's
       stack, since this runs in the reserve below the goroutine's limit. */
    if (current->next != NULL && current->next->size != SP_SEG_UNIT)
        sp_run_on_stack(drop_next, current, sp_system_stack_top(co));
}

#endif
