/*
 * Context switch for x86-64 Windows (Microsoft x64 ABI), GNU assembler
 * syntax (mingw-w64 gcc, clang).
 *
 * int sp_switch(void **save_sp, void *load_sp, int transfer)
 *     rcx = where to store the outgoing stack pointer
 *     rdx = the incoming stack pointer (a frame laid out as below)
 *     r8  = a value handed to the other side: sp_switch returns it there
 * A new coroutine's first frame holds the coroutine in the rbx slot and
 * sp_coro_trampoline as the return address.
 *
 * Saved frame, lowest address first (the saved stack pointer points at +0x00,
 * which is 16-byte aligned so the xmm slots can use movaps):
 *
 *   offset  size  contents
 *   +0x000  4     MXCSR
 *   +0x004  2     x87 FPU control word
 *   +0x006  10    (unused)
 *   +0x010  160   xmm6 ... xmm15, full 128 bits each (+0x10 + 16*(n-6))
 *   +0x0b0  8     TEB GuaranteedStackBytes  gs:0x1748
 *   +0x0b8  8     TEB DeallocationStack     gs:0x1478
 *   +0x0c0  8     TEB StackLimit            gs:0x10
 *   +0x0c8  8     TEB StackBase             gs:0x08
 *   +0x0d0  8     (unused, keeps alignment)
 *   +0x0d8  8     r15
 *   +0x0e0  8     r14
 *   +0x0e8  8     r13
 *   +0x0f0  8     r12
 *   +0x0f8  8     rsi
 *   +0x100  8     rdi
 *   +0x108  8     rbx
 *   +0x110  8     rbp
 *   +0x118  8     return address
 *   = 0x120 bytes (SP_FRAME_SIZE in frame.c)
 *
 * The TEB fields tell Windows where the running stack is: its guard-page
 * growth, stack-overflow detection and exception dispatch all read them, so
 * they travel with each stack. FiberData (gs:0x20) is not used by Spindle.
 */

    .text

    .globl sp_switch
    .def sp_switch; .scl 2; .type 32; .endef
    .p2align 4
sp_switch:
    /* Stores rather than pushes, and a jump rather than ret at the end: a
       ret here would return to the other side's call site, which the
       return-stack predictor never expects. */
    leaq    -0x118(%rsp), %rsp
    stmxcsr 0x00(%rsp)
    fnstcw  0x04(%rsp)
    movaps  %xmm6,  0x10(%rsp)
    movaps  %xmm7,  0x20(%rsp)
    movaps  %xmm8,  0x30(%rsp)
    movaps  %xmm9,  0x40(%rsp)
    movaps  %xmm10, 0x50(%rsp)
    movaps  %xmm11, 0x60(%rsp)
    movaps  %xmm12, 0x70(%rsp)
    movaps  %xmm13, 0x80(%rsp)
    movaps  %xmm14, 0x90(%rsp)
    movaps  %xmm15, 0xa0(%rsp)
    movq    %gs:0x1748, %rax
    movq    %rax, 0xb0(%rsp)
    movq    %gs:0x1478, %rax
    movq    %rax, 0xb8(%rsp)
    movq    %gs:0x10, %rax
    movq    %rax, 0xc0(%rsp)
    movq    %gs:0x08, %rax
    movq    %rax, 0xc8(%rsp)
    movq    %r15, 0xd8(%rsp)
    movq    %r14, 0xe0(%rsp)
    movq    %r13, 0xe8(%rsp)
    movq    %r12, 0xf0(%rsp)
    movq    %rsi, 0xf8(%rsp)
    movq    %rdi, 0x100(%rsp)
    movq    %rbx, 0x108(%rsp)
    movq    %rbp, 0x110(%rsp)

    movq    %rsp, (%rcx)            /* outgoing side is now fully saved */
    movl    0x00(%rsp), %r10d       /* outgoing control words, for the test below */
    movzwl  0x04(%rsp), %r11d
    movq    %rdx, %rsp              /* incoming side from here on */

    movq    0x118(%rsp), %r9        /* where the incoming side continues */
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
    movaps  0x10(%rsp), %xmm6
    movaps  0x20(%rsp), %xmm7
    movaps  0x30(%rsp), %xmm8
    movaps  0x40(%rsp), %xmm9
    movaps  0x50(%rsp), %xmm10
    movaps  0x60(%rsp), %xmm11
    movaps  0x70(%rsp), %xmm12
    movaps  0x80(%rsp), %xmm13
    movaps  0x90(%rsp), %xmm14
    movaps  0xa0(%rsp), %xmm15
    movq    0xb0(%rsp), %rax
    movq    %rax, %gs:0x1748
    movq    0xb8(%rsp), %rax
    movq    %rax, %gs:0x1478
    movq    0xc0(%rsp), %rax
    movq    %rax, %gs:0x10
    movq    0xc8(%rsp), %rax
    movq    %rax, %gs:0x08
    movq    0xd8(%rsp), %r15
    movq    0xe0(%rsp), %r14
    movq    0xe8(%rsp), %r13
    movq    0xf0(%rsp), %r12
    movq    0xf8(%rsp), %rsi
    movq    0x100(%rsp), %rdi
    movq    0x108(%rsp), %rbx
    movq    0x110(%rsp), %rbp
    leaq    0x120(%rsp), %rsp       /* pop the frame and its return address */
    movq    %r8, %rax               /* return value on a resumed side */
    jmp     *%r9
1:  ldmxcsr 0x00(%rsp)
    fldcw   0x04(%rsp)
    jmp     2b

/*
 * First code a new coroutine runs: sp_switch "returns" here with rbx = the
 * coroutine and rsp 16-byte aligned. It reserves the 32-byte home area the
 * callee may use; rsp stays aligned, so the callee sees the ABI's alignment. The unwind
 * information leads to a zero return address in the initial frame, where
 * stack walks end.
 */
    .globl sp_coro_trampoline
    .def sp_coro_trampoline; .scl 2; .type 32; .endef
    .p2align 4
sp_coro_trampoline:
    .seh_proc sp_coro_trampoline
    subq    $32, %rsp
    .seh_stackalloc 32
    .seh_endprologue
    xorl    %ebp, %ebp
    movq    %rbx, %rcx
    call    sp_coro_entry
    ud2                             /* sp_coro_entry never returns */
    .seh_endproc
