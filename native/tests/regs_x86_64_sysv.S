/*
 * Test helper, x86-64 System V.
 * void sp_test_regs_call(const uint64_t *in, uint64_t *out, void (*fn)(void *), void *arg)
 * Loads every callee-saved register from in, calls fn(arg), stores the same
 * registers to out, and restores the caller's values.
 *
 *   in/out index  0 rbx  1 rbp  2 r12  3 r13  4 r14  5 r15
 *                 6 MXCSR (low 32 bits) | x87 control word (bits 32-47)
 */
#if defined(__APPLE__)
#  define SYM(name) _##name
#else
#  define SYM(name) name
#endif
    .text
    .globl SYM(sp_test_regs_call)
    .p2align 4
SYM(sp_test_regs_call):
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $24, %rsp               /* 0: out, 8: caller MXCSR, 12: caller x87 CW */
    movq    %rsi, 0(%rsp)
    stmxcsr 8(%rsp)
    fnstcw  12(%rsp)
    movq    %rdx, %rax
    movq    %rcx, %r11
    movq    %rdi, %r10
    ldmxcsr 48(%r10)
    fldcw   52(%r10)
    movq    0(%r10), %rbx
    movq    8(%r10), %rbp
    movq    16(%r10), %r12
    movq    24(%r10), %r13
    movq    32(%r10), %r14
    movq    40(%r10), %r15
    movq    %r11, %rdi
    call    *%rax
    movq    0(%rsp), %rax
    movq    %rbx, 0(%rax)
    movq    %rbp, 8(%rax)
    movq    %r12, 16(%rax)
    movq    %r13, 24(%rax)
    movq    %r14, 32(%rax)
    movq    %r15, 40(%rax)
    movq    $0, 48(%rax)
    stmxcsr 48(%rax)
    fnstcw  52(%rax)
    ldmxcsr 8(%rsp)
    fldcw   12(%rsp)
    addq    $24, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
#if defined(__linux__)
    .section .note.GNU-stack,"",@progbits
#endif
