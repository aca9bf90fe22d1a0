# spindle_add_goroutine_library(NAME [SHARED|MODULE] SOURCES...)
#
# Adds a shared library of goroutine code. On x86-64 Linux its code gets
# Spindle's 2 KiB growable stack segments:
#   - compiled with -fsplit-stack, and with SPINDLE_SPLIT_STACK defined, so
#     the calls of spindle.h that may park a goroutine go through a table
#     (a direct call into libspindle would give the caller 16 KiB of stack);
#   - linked with lld or gold, which adjust every call into code that is not
#     split-stack (libc) to ask for 16 KiB more room. GNU ld (bfd) does not,
#     and the result crashes: it is refused;
#   - linked with Spindle's own __morestack, hidden, from
#     Spindle::spindle_morestack (it cannot be reached through another
#     module's PLT), and with -z now, so no lazy symbol binding ever runs on
#     a nearly full segment.
# Elsewhere (AArch64, Windows, macOS, ASan and TSan builds) it is a plain shared
# library and its goroutines run on reserved stacks. The installed
# spindle-goroutine.pc carries the same flags for builds without CMake.
#
# SPINDLE_SPLIT_LINKER (cache) picks the linker: lld or gold; empty = the
# first of them that links a test program.
include_guard(GLOBAL)
include(CheckCSourceCompiles)
include(CheckCCompilerFlag)

set(SPINDLE_SPLIT_LINKER "" CACHE STRING "Linker for split-stack goroutine code: lld or gold")

function(_spindle_pick_split_linker out)
  if(SPINDLE_SPLIT_LINKER)
    if(NOT SPINDLE_SPLIT_LINKER MATCHES "^(lld|gold)$")
      message(FATAL_ERROR "Spindle: SPINDLE_SPLIT_LINKER=${SPINDLE_SPLIT_LINKER}: goroutine "
        "code built with -fsplit-stack must be linked with lld or gold. GNU ld (bfd) links "
        "it without adjusting calls into code that is not split-stack, and such calls "
        "then overrun 2 KiB stack segments.")
    endif()
    set(${out} ${SPINDLE_SPLIT_LINKER} PARENT_SCOPE)
    return()
  endif()
  foreach(linker lld gold)
    set(CMAKE_REQUIRED_LINK_OPTIONS -fuse-ld=${linker})
    set(CMAKE_REQUIRED_QUIET ON)
    check_c_source_compiles("int main(void) { return 0; }" SPINDLE_LINKER_${linker}_WORKS)
    if(SPINDLE_LINKER_${linker}_WORKS)
      set(${out} ${linker} PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "Spindle: goroutine code built with -fsplit-stack must be linked with "
    "lld or gold, and neither works here (install lld or binutils-gold). GNU ld (bfd) links "
    "it without adjusting calls into code that is not split-stack, and such calls then "
    "overrun 2 KiB stack segments.")
endfunction()

# Decided once per build: do goroutine libraries get segmented stacks?
function(_spindle_segmented_supported out)
  set(ok OFF)
  string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" cpu)
  if(cpu MATCHES "^(x86_64|amd64)$" AND CMAKE_SYSTEM_NAME STREQUAL "Linux"
     AND NOT SPINDLE_ASAN AND NOT SPINDLE_TSAN AND TARGET Spindle::spindle_morestack)
    check_c_compiler_flag(-fsplit-stack SPINDLE_CC_SPLIT_STACK)
    if(SPINDLE_CC_SPLIT_STACK)
      set(ok ON)
    endif()
  endif()
  set(${out} ${ok} PARENT_SCOPE)
endfunction()

# The flags of goroutine code, for spindle_add_goroutine_library and for
# spindle-goroutine.pc: segmented (ON/OFF), compile flags, link flags (the
# __morestack archive comes on top when segmented).
function(_spindle_goroutine_flags segmented_out compile_out link_out)
  _spindle_segmented_supported(segmented)
  set(compile "")
  set(link "")
  if(segmented)
    _spindle_pick_split_linker(linker)
    set(compile -fsplit-stack -DSPINDLE_SPLIT_STACK)
    set(link -fuse-ld=${linker} -Wl,-z,now)
  endif()
  set(${segmented_out} ${segmented} PARENT_SCOPE)
  set(${compile_out} ${compile} PARENT_SCOPE)
  set(${link_out} ${link} PARENT_SCOPE)
endfunction()

function(spindle_add_goroutine_library name)
  set(kind SHARED)
  set(sources ${ARGN})
  list(GET sources 0 first)
  if(first STREQUAL "SHARED" OR first STREQUAL "MODULE")
    set(kind ${first})
    list(REMOVE_AT sources 0)
  endif()
  add_library(${name} ${kind} ${sources})
  target_link_libraries(${name} PRIVATE Spindle::spindle)
  _spindle_goroutine_flags(segmented compile link)
  # Compile options only: -fsplit-stack on the link line would make gcc add
  # --wrap=pthread_create (served by Spindle's archive, but not needed here).
  target_compile_options(${name} PRIVATE ${compile})
  target_link_options(${name} PRIVATE ${link})
  if(segmented)
    target_link_libraries(${name} PRIVATE Spindle::spindle_morestack)
  endif()
  set_property(TARGET ${name} PROPERTY SPINDLE_SEGMENTED_STACKS ${segmented})
endfunction()
