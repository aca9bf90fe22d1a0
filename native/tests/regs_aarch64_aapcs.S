/*
 * Test helper, AArch64.
 * void sp_test_regs_call(const uint64_t *in, uint64_t *out, void (*fn)(void *), void *arg)
 * Loads every callee-saved register from in, calls fn(arg), stores the same
 * registers to out, and restores the caller's values.
 *
 *   in/out index  0-9 x19-x28   10 x29 (fp)   11-18 d8-d15
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
    sub     sp, sp, #0xb0
    stp     x19, x20, [sp, #0x00]
    stp     x21, x22, [sp, #0x10]
    stp     x23, x24, [sp, #0x20]
    stp     x25, x26, [sp, #0x30]
    stp     x27, x28, [sp, #0x40]
    stp     x29, x30, [sp, #0x50]
    stp     d8,  d9,  [sp, #0x60]
    stp     d10, d11, [sp, #0x70]
    stp     d12, d13, [sp, #0x80]
    stp     d14, d15, [sp, #0x90]
    str     x1, [sp, #0xa0]
    mov     x9, x0
    ldp     x19, x20, [x9, #0x00]
    ldp     x21, x22, [x9, #0x10]
    ldp     x23, x24, [x9, #0x20]
    ldp     x25, x26, [x9, #0x30]
    ldp     x27, x28, [x9, #0x40]
    ldr     x29, [x9, #0x50]
    ldp     d8,  d9,  [x9, #0x58]
    ldp     d10, d11, [x9, #0x68]
    ldp     d12, d13, [x9, #0x78]
    ldp     d14, d15, [x9, #0x88]
    mov     x0, x3
    blr     x2
    ldr     x9, [sp, #0xa0]
    stp     x19, x20, [x9, #0x00]
    stp     x21, x22, [x9, #0x10]
    stp     x23, x24, [x9, #0x20]
    stp     x25, x26, [x9, #0x30]
    stp     x27, x28, [x9, #0x40]
    str     x29, [x9, #0x50]
    stp     d8,  d9,  [x9, #0x58]
    stp     d10, d11, [x9, #0x68]
    stp     d12, d13, [x9, #0x78]
    stp     d14, d15, [x9, #0x88]
    ldp     x19, x20, [sp, #0x00]
    ldp     x21, x22, [sp, #0x10]
    ldp     x23, x24, [sp, #0x20]
    ldp     x25, x26, [sp, #0x30]
    ldp     x27, x28, [sp, #0x40]
    ldp     x29, x30, [sp, #0x50]
    ldp     d8,  d9,  [sp, #0x60]
    ldp     d10, d11, [sp, #0x70]
    ldp     d12, d13, [sp, #0x80]
    ldp     d14, d15, [sp, #0x90]
    add     sp, sp, #0xb0
    ret
#if defined(__linux__)
    .section .note.GNU-stack,"",%progbits
#endif
