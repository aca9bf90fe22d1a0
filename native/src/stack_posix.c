/* Reserved stacks on Linux and macOS: one private anonymous mapping per
   stack, pages committed by the kernel as they are first touched, a guard
   region below. Linux 6.13+ installs the guard with MADV_GUARD_INSTALL, which
   adds no mapping; elsewhere mprotect(PROT_NONE) splits the mapping in two,
   so vm.max_map_count (65530 by default) caps a process near 32,700 stacks. */
#if !defined(_WIN32)

#define _GNU_SOURCE
#include "coro_internal.h"
#include "sanitizer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#  define MADV_GUARD_INSTALL 102
#endif
#ifndef MAP_NORESERVE
#  define MAP_NORESERVE 0
#endif
#ifndef MAP_STACK
#  define MAP_STACK 0
#endif

/* Below the stack: large enough that ordinary frames cannot step over it. */
#define SP_GUARD_SIZE ((size_t)64 * 1024)
/* A coroutine that wrote into the lowest bytes of its top page may have gone
   deeper; its lower pages are then given back on clean. */
#define SP_DEEP_PROBE 256

static size_t page_size_cached;
static atomic_int guard_mode; /* an sp_guard_mode, decided once */

size_t sp_page_size(void)
{
    if (page_size_cached == 0)
        page_size_cached = (size_t)sysconf(_SC_PAGESIZE);
    return page_size_cached;
}

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

/* A kernel that accepts MADV_GUARD_INSTALL but does not enforce it (as
   qemu-user does, which accepts unknown advice) would leave stacks unguarded.
   Check once: the kernel must refuse to read a guarded page on our behalf. */
static int madvise_guard_works(void)
{
#if defined(__linux__)
    size_t page = sp_page_size();
    char *probe = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (probe == MAP_FAILED)
        return 0;
    int works = 0;
    if (madvise(probe, page, MADV_GUARD_INSTALL) == 0) {
        int fds[2];
        if (pipe(fds) == 0) {
            works = write(fds[1], probe, 1) < 0 && errno == EFAULT;
            close(fds[0]);
            close(fds[1]);
        }
    }
    munmap(probe, page);
    return works;
#else
    return 0;
#endif
}

int sp_stack_guard_mode(void)
{
    int mode = atomic_load(&guard_mode);
    if (mode == SP_GUARD_NONE) {
        int decided = madvise_guard_works() ? SP_GUARD_MADVISE : SP_GUARD_MPROTECT;
        int expected = SP_GUARD_NONE;
        atomic_compare_exchange_strong(&guard_mode, &expected, decided);
        mode = atomic_load(&guard_mode);
    }
    return mode;
}

int sp_stack_map(sp_stack *st, size_t max_stack, size_t initial_commit)
{
    (void)initial_commit; /* the kernel commits on first touch */
    size_t page = sp_page_size();
    size_t body = round_up(max_stack + SP_DESCRIPTOR_SPACE, page);
    size_t guard = round_up(SP_GUARD_SIZE, page);
    size_t total = guard + body;

    char *base = mmap(NULL, total, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (base == MAP_FAILED)
        return SP_ENOMEM;
    int mode = sp_stack_guard_mode();
    int guarded = mode == SP_GUARD_MADVISE
                      ? madvise(base, guard, MADV_GUARD_INSTALL) == 0
                      : mprotect(base, guard, PROT_NONE) == 0;
    if (!guarded) { /* e.g. vm.max_map_count reached by the mprotect split */
        munmap(base, total);
        return SP_ENOMEM;
    }
    st->map_base = base;
    st->map_size = total;
    st->low = base + guard;
    st->top = base + total - SP_DESCRIPTOR_SPACE;
    st->usable = (size_t)(st->top - st->low);
    st->requested = max_stack;
    st->committed = 0;
    st->valgrind_id = SP_VG_STACK_REGISTER(st->low, st->top);
    return SP_OK;
}

void sp_stack_unmap(sp_stack *st)
{
    SP_VG_STACK_DEREGISTER(st->valgrind_id);
    munmap(st->map_base, st->map_size);
}

void sp_stack_clean(sp_stack *st, const char *written_from)
{
    if (written_from != NULL) {
        SP_VG_MAKE_DEFINED(written_from, (size_t)(st->top - written_from));
        memset((char *)written_from, 0, (size_t)(st->top - written_from));
        return;
    }
    size_t page = sp_page_size();
    char *top_page = (char *)((uintptr_t)st->top & ~(uintptr_t)(page - 1));
    if (top_page < st->low)
        top_page = st->low;
    SP_VG_MAKE_DEFINED(top_page, (size_t)(st->top - top_page));

    /* Data in the lowest bytes of the top page means the run may have gone
       deeper: those pages are given back (they read as zero afterwards; one
       system call, paid only by coroutines that used more than a page). A
       frame that leaves exactly this probe zero while writing below it
       escapes the test; its leftovers only make a later high-water mark
       read high. */
    uint64_t probe = 0;
    for (const uint64_t *p = (const uint64_t *)top_page;
         (const char *)p < top_page + SP_DEEP_PROBE; p++)
        probe |= *p;
    memset(top_page, 0, (size_t)(st->top - top_page));
    if (probe != 0 && top_page > st->low)
        madvise(st->low, (size_t)(top_page - st->low), MADV_DONTNEED);
}

const char *sp_stack_readable_floor(const sp_stack *st)
{
    return st->low; /* untouched pages read as zero without being committed */
}

char *sp_stack_committed_floor(const sp_stack *st)
{
    return st->low;
}

#endif /* !_WIN32 */
