/* Telling ASan, TSan and valgrind about stacks they cannot see being switched. */
#ifndef SPINDLE_SANITIZER_H
#define SPINDLE_SANITIZER_H

#include <stddef.h>

#if defined(SPINDLE_ASAN)
#  include <sanitizer/common_interface_defs.h>
#  define SP_ASAN_START_SWITCH(fake_save, bottom, size) \
      __sanitizer_start_switch_fiber((fake_save), (bottom), (size))
#  define SP_ASAN_FINISH_SWITCH(fake, bottom_old, size_old) \
      __sanitizer_finish_switch_fiber((fake), (bottom_old), (size_old))
#  include <sanitizer/asan_interface.h>
   /* A coroutine destroyed while suspended leaves its live frames' redzones
      poisoned; its stack is plain memory again before it is cleaned. */
#  define SP_ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#  define SP_ASAN_START_SWITCH(fake_save, bottom, size) ((void)0)
#  define SP_ASAN_FINISH_SWITCH(fake, bottom_old, size_old) ((void)0)
#  define SP_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#if defined(SPINDLE_TSAN)
#  include <sanitizer/tsan_interface.h>
   /* Every coroutine is a TSan fiber (TSan's name for a thread of execution
      that is not an OS thread), and the thread that resumes one is its
      current fiber. A switch names the fiber it goes to just before the
      stacks change. Flags 0: the switch is a happens-before edge, as it is
      for the CPU (the same thread runs on). */
#  define SP_TSAN_CURRENT_FIBER() __tsan_get_current_fiber()
   /* Keeps a fiber in a descriptor's slot (the slots exist in TSan builds only). */
#  define SP_TSAN_SET(slot, fiber) ((slot) = (fiber))
#  define SP_TSAN_FIBER_CREATE(slot, id) sp_tsan_fiber_create(&(slot), (id))
#  define SP_TSAN_FIBER_DESTROY(slot) (__tsan_destroy_fiber(slot), (slot) = NULL)
#  define SP_TSAN_SWITCH_TO(fiber) __tsan_switch_to_fiber((fiber), 0)
#  include <stdint.h>
#  include <stdio.h>
   /* A new fiber named after its coroutine, so that a report says which. */
static inline void sp_tsan_fiber_create(void **slot, uint64_t id)
{
    char name[32];
    *slot = __tsan_create_fiber(0);
    snprintf(name, sizeof name, "coroutine %llu", (unsigned long long)id);
    __tsan_set_fiber_name(*slot, name);
}
#else
#  define SP_TSAN_CURRENT_FIBER() NULL
#  define SP_TSAN_SET(slot, fiber) ((void)0)
#  define SP_TSAN_FIBER_CREATE(slot, id) ((void)0)
#  define SP_TSAN_FIBER_DESTROY(slot) ((void)0)
#  define SP_TSAN_SWITCH_TO(fiber) ((void)0)
#endif

#if defined(SPINDLE_VALGRIND)
#  include <valgrind/valgrind.h>
#  include <valgrind/memcheck.h>
#  define SP_VG_STACK_REGISTER(lo, hi) VALGRIND_STACK_REGISTER((lo), (hi))
#  define SP_VG_STACK_DEREGISTER(id) VALGRIND_STACK_DEREGISTER(id)
   /* A stack that is not running is plain memory to Spindle: memcheck marked
      what lay below its last stack pointer as inaccessible. */
#  define SP_VG_MAKE_DEFINED(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
   /* Memory below the stack pointer that code on another stack will use. */
#  define SP_VG_MAKE_UNDEFINED(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#else
#  define SP_VG_STACK_REGISTER(lo, hi) 0u
#  define SP_VG_STACK_DEREGISTER(id) ((void)(id))
#  define SP_VG_MAKE_DEFINED(p, n) ((void)(p), (void)(n))
#  define SP_VG_MAKE_UNDEFINED(p, n) ((void)(p), (void)(n))
#endif

#endif
