/* Segmented stacks (x86-64 Linux): the layout shared by the C runtime in
   libspindle and the __morestack assembly that the CMake helper links into
   every goroutine module. Both sides are built from this one header, so the
   offsets below are the contract between them (checked in segment.c). */
#ifndef SPINDLE_SEGMENT_H
#define SPINDLE_SEGMENT_H

/* Segments need -fsplit-stack code, which gcc and clang generate on x86-64
   only; ASan's fake stacks and shadow do not follow a stack across them.
   TSan builds run on reserved stacks too: every instrumented function calls
   into TSan's runtime, which is not split-stack code, so each frame on a
   segment would ask for the 16 KiB given to such calls (or overrun the
   reserve) and no 2 KiB segment would be what runs. */
#if defined(__x86_64__) && defined(__linux__) && !defined(SPINDLE_ASAN) && !defined(SPINDLE_TSAN)
#  define SP_HAVE_SEGMENTS 1
#else
#  define SP_HAVE_SEGMENTS 0
#endif

/* A segment is one block of memory, the header at its lowest address:
 *
 *   base                        limit                                  top
 *   | header | reserve          | frames, growing down from top ...     | (descriptor) |
 *
 * The split-stack limit slot (%fs:0x70) holds `limit`. Compiled prologues
 * call __morestack when rsp - frame would fall below it; frames under 256
 * bytes compare rsp alone, leaf functions use the 128-byte red zone below
 * rsp, and calls through function pointers into code that is not split-stack
 * (the goroutine-facing calls of spindle.h) run below the caller's frame.
 * The reserve between the header and the limit is room for all of that. */
#define SP_SEG_PREV 0x00        /* the segment this one grew from, NULL for the first */
#define SP_SEG_NEXT 0x08        /* the deeper segment kept for reuse, or NULL */
#define SP_SEG_TOP 0x10         /* one past the highest usable byte */
#define SP_SEG_CORO 0x18        /* the coroutine that owns it */
#define SP_SEG_ROOM 0x20        /* top - limit: the most a frame may take */
#define SP_SEG_SIZE 0x28        /* bytes of the whole block */
#define SP_SEG_HEADER 0x40
#define SP_SEG_RESERVE 0x400
#define SP_SEG_LIMIT_OFFSET (SP_SEG_HEADER + SP_SEG_RESERVE)
/* Blocks of this size come from slabs; larger ones are mapped one by one. */
#define SP_SEG_UNIT 0x800
/* Extra room __morestack_non_split asks for: a frame that calls code that
   is not split-stack (libc) gets this much more below it. */
#define SP_SEG_NON_SPLIT_ROOM 0x4000
/* The section Spindle's __morestack object adds to every module it is linked
   into (not mapped; not empty, so that every linker keeps it, GNU ld too): it
   tells Spindle's __morestack from another one (split_module.c). */
#define SP_MORESTACK_MARKER ".note.spindle-morestack"
/* Where, in struct sp_coro, the pointer to the resumer's saved stack pointer
   sits: __morestack finds the thread's own stack through it. */
#define SP_CORO_SYSTEM_SP_SLOT 0x10

#if !defined(__ASSEMBLER__)

#include "coro_internal.h"

typedef struct sp_segment sp_segment;
struct sp_segment {
    sp_segment *prev;
    sp_segment *next;
    char *top;
    sp_coro *co;
    size_t room;
    size_t size;
    struct sp_dynamic_block *dynamic; /* alloca/VLA blocks that did not fit */
    unsigned valgrind_id;
    /* SP_SEG_CANARY: the header's highest bytes, so the first an overrun of
       the reserve reaches (checked on the slow paths and when a goroutine parks). */
    uint32_t canary;
};

#define SP_SEG_CANARY 0x53504753u /* "SPGS" */

/* Called by __morestack on the thread's own stack when seg has no cached
   next segment with room for need bytes above its limit: links and returns
   one. Ends the process with the overflow message when the coroutine's
   stack would exceed its maximum. Exported for the goroutine modules. */
SP_API sp_segment *sp_segment_grow(sp_segment *seg, size_t need);
/* Called by __morestack on the way back, on seg itself, when seg keeps a
   deeper segment: gives that one back, so a goroutine keeps at most one
   segment beyond the one it runs on. */
SP_API void sp_segment_trim(sp_segment *seg);
/* Called by __morestack_allocate_stack_space on the thread's own stack: an
   alloca or VLA of size bytes did not fit below the limit of seg, asked for
   by a frame whose stack pointer is caller_sp. Returns heap memory that
   lives while that frame can: blocks of frames deeper than a later request
   (they have returned), and every block of a segment given back, are freed. */
SP_API void *sp_segment_alloca(sp_segment *seg, size_t size, const void *caller_sp);

/* The first segment of a new coroutine, with room for the descriptor at its
   top: returns the descriptor (its segment fields set), or NULL. */
SP_HIDDEN sp_coro *sp_segment_take_first(size_t max_stack);
/* Gives back every segment of a coroutine that is not running, descriptor included. */
SP_HIDDEN void sp_segment_give_all(sp_coro *co);
/* Gives back every segment of a finished coroutine but its first, which is
   made as sp_segment_take_first made it (the descriptor is left as it is). */
SP_HIDDEN void sp_segment_reuse_first(sp_coro *co);
/* Frees a deeper segment kept beyond the current one when it is larger than
   a unit (a parked goroutine should not hold the room libc calls needed). */
SP_HIDDEN void sp_segment_drop_large_cache(sp_coro *co);
SP_HIDDEN void sp_segment_thread_exit(void);
/* 1 when fn's module may start on a segment: sp_split_stack_status gives
   SP_SPLIT_SPINDLE (split_module.c). */
SP_HIDDEN int sp_function_is_split(const void *fn);

static inline sp_segment *sp_segment_of_limit(const void *limit)
{
    return (sp_segment *)((char *)limit - SP_SEG_LIMIT_OFFSET);
}

static inline char *sp_segment_limit(const sp_segment *seg)
{
    return (char *)seg + SP_SEG_LIMIT_OFFSET;
}

#endif
#endif
