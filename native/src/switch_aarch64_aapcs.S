/*
 * Context switch for AArch64 (AAPCS64: Linux; Apple's variant differs only in
 * symbol names here, and x18, the platform register, is never touched).
 *
 * int sp_switch(void **save_sp, void *load_sp, int transfer)
 *     x0 = where to store the outgoing stack pointer
 *     x1 = the incoming stack pointer (a frame laid out as below)
 *     x2 = a value handed to the other side: sp_switch returns it there
 * A new coroutine's first frame holds the coroutine in the x19 slot and
 * sp_coro_trampoline in the x30 slot.
 *
 * Saved frame, lowest address first (the saved stack pointer points at +0x00):
 *
 *   offset  size  contents
 *   +0x00   16    d8,  d9      (only the low 64 bits of v8-v15 are callee-saved)
 *   +0x10   16    d10, d11
 *   +0x20   16    d12, d13
 *   +0x30   16    d14, d15
 *   +0x40   16    x19, x20
 *   +0x50   16    x21, x22
 *   +0x60   16    x23, x24
 *   +0x70   16    x25, x26
 *   +0x80   16    x27, x28
 *   +0x90   16    x29 (fp), x30 (lr: where sp_switch returns to)
 *   = 0xa0 bytes (SP_FRAME_SIZE in frame.c); sp stays 16-byte aligned
 */

#if defined(__APPLE__)
#  define SYM(name) _##name
#  define HIDDEN(name) .private_extern SYM(name)
#  define FUNC_TYPE(name)
#  define FUNC_SIZE(name)
#else
#  define SYM(name) name
#  define HIDDEN(name) .hidden SYM(name)
#  define FUNC_TYPE(name) .type SYM(name), %function
#  define FUNC_SIZE(name) .size SYM(name), . - SYM(name)
#endif

    .text

    .globl SYM(sp_switch)
    HIDDEN(sp_switch)
    FUNC_TYPE(sp_switch)
    .p2align 4
SYM(sp_switch):
    .cfi_startproc
    sub     sp, sp, #0xa0
    .cfi_adjust_cfa_offset 0xa0
    stp     d8,  d9,  [sp, #0x00]
    stp     d10, d11, [sp, #0x10]
    stp     d12, d13, [sp, #0x20]
    stp     d14, d15, [sp, #0x30]
    stp     x19, x20, [sp, #0x40]
    stp     x21, x22, [sp, #0x50]
    stp     x23, x24, [sp, #0x60]
    stp     x25, x26, [sp, #0x70]
    stp     x27, x28, [sp, #0x80]
    stp     x29, x30, [sp, #0x90]

    mov     x9, sp
    str     x9, [x0]                /* outgoing side is now fully saved */
    mov     sp, x1                  /* incoming side from here on */

    ldp     d8,  d9,  [sp, #0x00]
    ldp     d10, d11, [sp, #0x10]
    ldp     d12, d13, [sp, #0x20]
    ldp     d14, d15, [sp, #0x30]
    ldp     x19, x20, [sp, #0x40]
    ldp     x21, x22, [sp, #0x50]
    ldp     x23, x24, [sp, #0x60]
    ldp     x25, x26, [sp, #0x70]
    ldp     x27, x28, [sp, #0x80]
    ldp     x29, x30, [sp, #0x90]
    add     sp, sp, #0xa0
    mov     x0, x2                  /* return value on a resumed side */
    ret
    .cfi_endproc
    FUNC_SIZE(sp_switch)

/*
 * First code a new coroutine runs: sp_switch "returns" here (x30 in the
 * initial frame) with x19 = the coroutine. The link register is marked
 * undefined and fp zeroed so debuggers and profilers stop here.
 */
    .globl SYM(sp_coro_trampoline)
    HIDDEN(sp_coro_trampoline)
    FUNC_TYPE(sp_coro_trampoline)
    .p2align 4
SYM(sp_coro_trampoline):
    .cfi_startproc
    .cfi_undefined x30
    mov     x29, xzr
    mov     x0, x19
    bl      SYM(sp_coro_entry)
    brk     #0                      /* sp_coro_entry never returns */
    .cfi_endproc
    FUNC_SIZE(sp_coro_trampoline)

#if defined(__linux__) && defined(__ELF__)
    .section .note.GNU-stack,"",%progbits
#endif
