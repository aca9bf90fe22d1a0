/* Reserved stacks on Windows: VirtualAlloc reserves the range, commits the
   top pages, and marks the page below them PAGE_GUARD, exactly as Windows
   lays out a thread stack. The switch loads this stack's TEB fields
   (StackBase, StackLimit, DeallocationStack), so the system's own guard-page
   growth commits further pages as the coroutine goes deeper and raises
   EXCEPTION_STACK_OVERFLOW when the reservation is used up. */
#if defined(_WIN32)

#include "coro_internal.h"
#include "sanitizer.h"

#include <string.h>
#include <windows.h>

/* Room at the bottom that Windows keeps for handling a stack overflow:
   never committed by growth, so the last guard page is hit above it. */
#define SP_OVERFLOW_RESERVE ((size_t)64 * 1024)

static size_t page_size_cached;

size_t sp_page_size(void)
{
    if (page_size_cached == 0) {
        SYSTEM_INFO si;
        GetSystemInfo(&si);
        page_size_cached = si.dwPageSize;
    }
    return page_size_cached;
}

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

int sp_stack_guard_mode(void)
{
    return SP_GUARD_WINDOWS;
}

/* Commits [top - bytes, top) read-write and the page below it as the guard. */
static int commit_top(sp_stack *st, size_t bytes)
{
    size_t page = sp_page_size();
    char *top_of_map = st->map_base + st->map_size;
    char *floor = top_of_map - bytes;
    if (!VirtualAlloc(floor, bytes, MEM_COMMIT, PAGE_READWRITE))
        return SP_ENOMEM;
    if (floor - page >= st->low &&
        !VirtualAlloc(floor - page, page, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD))
        return SP_ENOMEM;
    return SP_OK;
}

int sp_stack_map(sp_stack *st, size_t max_stack, size_t initial_commit)
{
    size_t page = sp_page_size();
    size_t body = round_up(max_stack + SP_DESCRIPTOR_SPACE, page);
    size_t reserve = round_up(SP_OVERFLOW_RESERVE, page);
    size_t total = reserve + body;
    /* Reserved read-write, as thread stacks are: guard-page growth commits
       pages with the reservation's protection. */
    char *base = VirtualAlloc(NULL, total, MEM_RESERVE, PAGE_READWRITE);
    if (base == NULL)
        return SP_ENOMEM;
    st->map_base = base;
    st->map_size = total;
    st->low = base + reserve;
    st->top = base + total - SP_DESCRIPTOR_SPACE;
    st->usable = (size_t)(st->top - st->low);
    st->requested = max_stack;
    st->committed = round_up(initial_commit > page ? initial_commit : page, page);
    if (st->committed > body)
        st->committed = body;
    if (commit_top(st, st->committed) != SP_OK) {
        VirtualFree(base, 0, MEM_RELEASE);
        return SP_ENOMEM;
    }
    st->valgrind_id = SP_VG_STACK_REGISTER(st->low, st->top);
    return SP_OK;
}

void sp_stack_unmap(sp_stack *st)
{
    SP_VG_STACK_DEREGISTER(st->valgrind_id);
    VirtualFree(st->map_base, 0, MEM_RELEASE);
}

/* The lowest committed read-write address of the stack: walk the regions
   up from the bottom (VirtualQuery describes a region from the queried page
   upwards) past the reserved part and the guard page. */
static char *committed_floor(const sp_stack *st)
{
    char *at = st->low;
    while (at < st->top) {
        MEMORY_BASIC_INFORMATION mbi;
        if (VirtualQuery(at, &mbi, sizeof mbi) == 0)
            return st->top;
        if (mbi.State == MEM_COMMIT && !(mbi.Protect & (PAGE_GUARD | PAGE_NOACCESS)))
            return at;
        at = (char *)mbi.BaseAddress + mbi.RegionSize;
    }
    return st->top;
}

void sp_stack_clean(sp_stack *st, const char *written_from)
{
    if (written_from != NULL) {
        memset((char *)written_from, 0, (size_t)(st->top - written_from));
        return;
    }
    size_t page = sp_page_size();
    char *floor = committed_floor(st);
    char *initial_floor = st->map_base + st->map_size - st->committed;
    memset(floor, 0, (size_t)(st->top - floor));
    if (floor < initial_floor) {
        /* Growth committed more and moved the guard page down: give the
           extra pages back and put the guard where a fresh stack has it. */
        char *from = floor - page >= st->low ? floor - page : floor;
        VirtualFree(from, (size_t)(initial_floor - from), MEM_DECOMMIT);
        commit_top(st, st->committed);
    }
}

const char *sp_stack_readable_floor(const sp_stack *st)
{
    return committed_floor(st);
}

char *sp_stack_committed_floor(const sp_stack *st)
{
    return st->map_base + st->map_size - st->committed;
}

#endif /* _WIN32 */
