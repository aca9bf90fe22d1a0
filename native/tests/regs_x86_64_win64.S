/*
 * Test helper, x86-64 Windows.
 * void sp_test_regs_call(const uint64_t *in, uint64_t *out, void (*fn)(void *), void *arg)
 * Loads every callee-saved register from in, calls fn(arg), stores the same
 * registers to out, and restores the caller's values.
 *
 *   in/out index  0 rbx  1 rbp  2 rdi  3 rsi  4 r12  5 r13  6 r14  7 r15
 *                 8 MXCSR (low 32 bits) | x87 control word (bits 32-47)
 *                 9-28 xmm6-xmm15, 128 bits each (two words, low first)
 */
    .text
    .globl sp_test_regs_call
    .p2align 4
sp_test_regs_call:
    pushq   %rbp
    pushq   %rbx
    pushq   %rdi
    pushq   %rsi
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    /* 0x00-0x1f home area for fn, 0x20 out, 0x28 MXCSR+CW, 0x30-0xcf xmm6-15 */
    subq    $0xd8, %rsp
    movq    %rdx, 0x20(%rsp)
    stmxcsr 0x28(%rsp)
    fnstcw  0x2c(%rsp)
    movups  %xmm6,  0x30(%rsp)
    movups  %xmm7,  0x40(%rsp)
    movups  %xmm8,  0x50(%rsp)
    movups  %xmm9,  0x60(%rsp)
    movups  %xmm10, 0x70(%rsp)
    movups  %xmm11, 0x80(%rsp)
    movups  %xmm12, 0x90(%rsp)
    movups  %xmm13, 0xa0(%rsp)
    movups  %xmm14, 0xb0(%rsp)
    movups  %xmm15, 0xc0(%rsp)
    movq    %r8, %rax
    movq    %rcx, %r10
    movq    %r9, %rcx
    ldmxcsr 64(%r10)
    fldcw   68(%r10)
    movups  72(%r10),  %xmm6
    movups  88(%r10),  %xmm7
    movups  104(%r10), %xmm8
    movups  120(%r10), %xmm9
    movups  136(%r10), %xmm10
    movups  152(%r10), %xmm11
    movups  168(%r10), %xmm12
    movups  184(%r10), %xmm13
    movups  200(%r10), %xmm14
    movups  216(%r10), %xmm15
    movq    0(%r10), %rbx
    movq    8(%r10), %rbp
    movq    16(%r10), %rdi
    movq    24(%r10), %rsi
    movq    32(%r10), %r12
    movq    40(%r10), %r13
    movq    48(%r10), %r14
    movq    56(%r10), %r15
    call    *%rax
    movq    0x20(%rsp), %rax
    movq    %rbx, 0(%rax)
    movq    %rbp, 8(%rax)
    movq    %rdi, 16(%rax)
    movq    %rsi, 24(%rax)
    movq    %r12, 32(%rax)
    movq    %r13, 40(%rax)
    movq    %r14, 48(%rax)
    movq    %r15, 56(%rax)
    movq    $0, 64(%rax)
    stmxcsr 64(%rax)
    fnstcw  68(%rax)
    movups  %xmm6,  72(%rax)
    movups  %xmm7,  88(%rax)
    movups  %xmm8,  104(%rax)
    movups  %xmm9,  120(%rax)
    movups  %xmm10, 136(%rax)
    movups  %xmm11, 152(%rax)
    movups  %xmm12, 168(%rax)
    movups  %xmm13, 184(%rax)
    movups  %xmm14, 200(%rax)
    movups  %xmm15, 216(%rax)
    ldmxcsr 0x28(%rsp)
    fldcw   0x2c(%rsp)
    movups  0x30(%rsp), %xmm6
    movups  0x40(%rsp), %xmm7
    movups  0x50(%rsp), %xmm8
    movups  0x60(%rsp), %xmm9
    movups  0x70(%rsp), %xmm10
    movups  0x80(%rsp), %xmm11
    movups  0x90(%rsp), %xmm12
    movups  0xa0(%rsp), %xmm13
    movups  0xb0(%rsp), %xmm14
    movups  0xc0(%rsp), %xmm15
    addq    $0xd8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rsi
    popq    %rdi
    popq    %rbx
    popq    %rbp
    ret
