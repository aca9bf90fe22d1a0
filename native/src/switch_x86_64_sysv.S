/*
 * Context switch for x86-64 System V (Linux, macOS).
 *
 * void *sp_switch(void **save_sp, void *load_sp, void *transfer)
 *     rdi = where to store the outgoing stack pointer
 *     rsi = the incoming stack pointer (a frame laid out as below)
 *     rdx = a value handed to the other side: sp_switch returns it there, and a
 *           new coroutine's trampoline receives it in rdi
 *
 * Saved frame, lowest address first (the saved stack pointer points at +0x00):
 *
 *   offset  size  contents
 *   +0x00   4     MXCSR (control bits matter; status bits travel along)
 *   +0x04   2     x87 FPU control word
 *   +0x06   2     (unused)
 *   +0x08   8     split-stack limit, %fs:0x70 (Linux/glibc TCB slot; 0 elsewhere)
 *   +0x10   8     r15
 *   +0x18   8     r14
 *   +0x20   8     r13
 *   +0x28   8     r12
 *   +0x30   8     rbx
 *   +0x38   8     rbp
 *   +0x40   8     return address
 *   = 0x48 bytes (SP_FRAME_SIZE in frame.c)
 *
 * Everything else is caller-saved in this ABI: rax, rcx, rdx, rsi, rdi,
 * r8-r11, all of xmm0-15, the x87 stack, and the MXCSR/x87 status flags.
 */

#if defined(__APPLE__)
#  define SYM(name) _##name
#  define HIDDEN(name) .private_extern SYM(name)
#  define FUNC_TYPE(name)
#  define FUNC_SIZE(name)
#else
#  define SYM(name) name
#  define HIDDEN(name) .hidden SYM(name)
#  define FUNC_TYPE(name) .type SYM(name), @function
#  define FUNC_SIZE(name) .size SYM(name), . - SYM(name)
#endif

    .text

    .globl SYM(sp_switch)
    HIDDEN(sp_switch)
    FUNC_TYPE(sp_switch)
    .p2align 4
SYM(sp_switch):
    .cfi_startproc
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    pushq   %r15
    .cfi_adjust_cfa_offset 8
#if defined(__linux__)
    pushq   %fs:0x70
#else
    pushq   $0
#endif
    .cfi_adjust_cfa_offset 8
    subq    $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)
    fnstcw  4(%rsp)

    movq    %rsp, (%rdi)            /* outgoing side is now fully saved */
    movq    %rsi, %rsp              /* incoming side from here on */

    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
#if defined(__linux__)
    popq    %fs:0x70
#else
    addq    $8, %rsp
#endif
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    movq    %rdx, %rax              /* return value on a resumed side */
    movq    %rdx, %rdi              /* first argument for a new coroutine's trampoline */
    ret
    .cfi_endproc
    FUNC_SIZE(sp_switch)

/*
 * First code a new coroutine runs: sp_switch "returns" here with rdi = the
 * coroutine. rsp is 16-byte aligned on arrival, so the call below enters
 * sp_coro_entry with the ABI's alignment. The return address is marked
 * undefined and rbp is zeroed so debuggers and profilers stop here.
 */
    .globl SYM(sp_coro_trampoline)
    HIDDEN(sp_coro_trampoline)
    FUNC_TYPE(sp_coro_trampoline)
    .p2align 4
SYM(sp_coro_trampoline):
    .cfi_startproc
    .cfi_undefined rip
    xorl    %ebp, %ebp
    call    SYM(sp_coro_entry)
    ud2                             /* sp_coro_entry never returns */
    .cfi_endproc
    FUNC_SIZE(sp_coro_trampoline)

#if defined(__linux__) && defined(__ELF__)
    .section .note.GNU-stack,"",@progbits
#endif
