/*
 * Context switch for x86-64 System V (Linux, macOS).
 *
 * int sp_switch(void **save_sp, void *load_sp, int transfer)
 *     rdi = where to store the outgoing stack pointer
 *     rsi = the incoming stack pointer (a frame laid out as below)
 *     rdx = a value handed to the other side: sp_switch returns it there
 * A new coroutine's first frame holds the coroutine in the rbx slot and
 * sp_coro_trampoline as the return address.
 *
 * Saved frame, lowest address first (the saved stack pointer points at +0x00):
 *
 *   offset  size  contents
 *   +0x00   4     MXCSR (control bits matter; status bits travel along)
 *   +0x04   2     x87 FPU control word
 *   +0x06   2     (unused)
 *   +0x08   8     split-stack limit, %fs:0x70 (Linux/glibc TCB slot; unused elsewhere)
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

/* sp_switch, and sp_switch_symmetric for a switch between two coroutines that
   both switch out from the same call site (the run loop's direct yield):
   there the incoming side returns to exactly the call site the outgoing one
   came from, so a ret is what the return-stack predictor expects. */
.macro SP_SWITCH name, symmetric
    .globl SYM(\name)
    HIDDEN(\name)
    FUNC_TYPE(\name)
    .p2align 4
SYM(\name):
    .cfi_startproc
    /* Stores rather than pushes, and (in sp_switch) a jump rather than ret
       at the end: between a coroutine and its resumer a ret would return to
       the other side's call site, which the return-stack predictor never
       expects (measured: 20 vs 8 ns a switch). */
    leaq    -0x40(%rsp), %rsp
    .cfi_adjust_cfa_offset 0x40
    stmxcsr 0x00(%rsp)
    fnstcw  0x04(%rsp)
#if defined(__linux__)
    movq    %fs:0x70, %r9
    movq    %r9, 0x08(%rsp)
#endif
    movq    %r15, 0x10(%rsp)
    movq    %r14, 0x18(%rsp)
    movq    %r13, 0x20(%rsp)
    movq    %r12, 0x28(%rsp)
    movq    %rbx, 0x30(%rsp)
    movq    %rbp, 0x38(%rsp)

    movq    %rsp, (%rdi)            /* outgoing side is now fully saved */
    movl    0x00(%rsp), %r10d       /* outgoing control words, for the test below */
    movzwl  0x04(%rsp), %r11d
    movq    %rsi, %rsp              /* incoming side from here on */

    movq    0x40(%rsp), %r8         /* where the incoming side continues */
    /* ldmxcsr and fldcw serialise; load them only when the incoming control
       bits differ from the outgoing ones (status flags are not callee-saved). */
    movl    0x00(%rsp), %ecx
    xorl    %r10d, %ecx
    andl    $0xffc0, %ecx
    cmpw    0x04(%rsp), %r11w
    jne     1f
    testl   %ecx, %ecx
    jne     1f
2:
#if defined(__linux__)
    movq    0x08(%rsp), %r9
    movq    %r9, %fs:0x70
#endif
    movq    0x10(%rsp), %r15
    movq    0x18(%rsp), %r14
    movq    0x20(%rsp), %r13
    movq    0x28(%rsp), %r12
    movq    0x30(%rsp), %rbx
    movq    0x38(%rsp), %rbp
    movq    %rdx, %rax              /* return value on a resumed side */
    .if \symmetric
    leaq    0x40(%rsp), %rsp        /* pop the frame, leaving the return address */
    ret
    .else
    leaq    0x48(%rsp), %rsp        /* pop the frame and its return address */
    jmp     *%r8
    .endif
1:  ldmxcsr 0x00(%rsp)
    fldcw   0x04(%rsp)
    jmp     2b
    .cfi_endproc
    FUNC_SIZE(\name)
.endm

    SP_SWITCH sp_switch, 0
    SP_SWITCH sp_switch_symmetric, 1

/*
 * First code a new coroutine runs: sp_switch "returns" here with rbx = the
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
    movq    %rbx, %rdi
    call    SYM(sp_coro_entry)
    ud2                             /* sp_coro_entry never returns */
    .cfi_endproc
    FUNC_SIZE(sp_coro_trampoline)

/*
 * void sp_run_on_stack(sp_fn fn, void *arg, void *stack_top)
 * Calls fn(arg) with rsp = stack_top (16-byte aligned) and, on Linux, the
 * split-stack limit slot zero, then comes back to the caller's stack and
 * limit (sp_systemstack). rbp keeps the caller's frame for unwinding.
 */
    .globl SYM(sp_run_on_stack)
    HIDDEN(sp_run_on_stack)
    FUNC_TYPE(sp_run_on_stack)
    .p2align 4
SYM(sp_run_on_stack):
    .cfi_startproc
    pushq   %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset rbp, -16
    movq    %rsp, %rbp
    .cfi_def_cfa_register rbp
#if defined(__linux__)
    pushq   %fs:0x70
    movq    $0, %fs:0x70
#endif
    movq    %rdx, %rsp
    movq    %rdi, %rax
    movq    %rsi, %rdi
    call    *%rax
#if defined(__linux__)
    movq    -8(%rbp), %rax
    movq    %rax, %fs:0x70
#endif
    movq    %rbp, %rsp
    popq    %rbp
    .cfi_def_cfa rsp, 8
    ret
    .cfi_endproc
    FUNC_SIZE(sp_run_on_stack)

#if defined(__linux__) && defined(__ELF__)
    .section .note.GNU-stack,"",@progbits
#endif
