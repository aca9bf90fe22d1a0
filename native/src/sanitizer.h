/* Telling ASan and valgrind about stacks they cannot see being switched. */
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
