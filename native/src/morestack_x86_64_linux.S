/*
 * Spindle's split-stack entry points for x86-64 Linux. They are linked,
 * hidden, into every goroutine module (libspindle_morestack.a, added by
 * spindle_add_goroutine_library): a call through another module's PLT cannot
 * reach them, as the compilers emit a direct call.
 *
 * A function compiled with -fsplit-stack compares rsp (less its frame) with
 * the limit at %fs:0x70 and, when below, runs:
 *
 *     mov  $frame_size, %r10
 *     mov  $stack_argument_bytes, %r11
 *     call __morestack
 *     ret                        <- [rsp] on entry points here
 *   body:                        <- the rest of the function, at [rsp] + 1
 *
 * __morestack frame, on the segment that ran out (rbp-relative):
 *
 *   +0x18  the function's stack arguments (r11 bytes), copied to the new segment
 *   +0x10  the function's return address
 *   +0x08  return address into the prologue (the lone ret)
 *   +0x00  saved rbp: gcc's varargs functions read their arguments as
 *          0x18(%rbp) after the call, so push rbp; mov rsp, rbp come first
 *   -0x08  rax (al: vector registers of a varargs call; or the static chain
 *          gcc parks there while r10 holds the frame size)
 *   -0x10  rdi, -0x18 rsi, -0x20 rcx (argument registers used as scratch)
 *
 * The function body runs on the next segment and returns here; then the
 * limit goes back to the old segment and the ret returns to the prologue's
 * ret, which returns to the caller (so calls and returns stay paired for the
 * return predictor). The next segment stays linked for the next call (the
 * "hot split" costs a few instructions, not an allocation); a segment beyond
 * that one is given back. Only rax, rdx, xmm0-1 and st0-1 carry results, so
 * the way back may use rcx, rsi, rdi and r8-r11.
 *
 * CFA rules: rbp-based from the second instruction, so debuggers and
 * profilers walk from the body on the new segment back through this frame
 * to the caller on the old one (gdb accepts the jump between stacks because
 * this function is named __morestack).
 */
#include "segment.h"

/* rsp = the thread's own stack for the coroutine of the segment in rax: below
   the outermost resumer's saved frame, past any red zone (sp_system_stack_top
   in coro_internal.h). Clobbers rcx. */
.macro SWITCH_TO_SYSTEM_STACK
    movq    SP_SEG_CORO(%rax), %rcx
    movq    SP_CORO_SYSTEM_SP_SLOT(%rcx), %rcx
    movq    (%rcx), %rcx
    subq    $128, %rcx
    andq    $-16, %rcx
    movq    %rcx, %rsp
.endm

    .text

    .globl  __morestack
    .hidden __morestack
    .type   __morestack, @function
    .p2align 4
__morestack:
    .cfi_startproc
    pushq   %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    movq    %rsp, %rbp
    .cfi_def_cfa_register %rbp
    pushq   %rax
    pushq   %rdi
    pushq   %rsi
    pushq   %rcx
    movq    %fs:0x70, %rax
    testq   %rax, %rax
    jz      .Lin_place                  /* not on a segment (see below) */
    subq    $SP_SEG_LIMIT_OFFSET, %rax  /* rax = the segment that ran out */
    movq    SP_SEG_NEXT(%rax), %rdi
    testq   %rdi, %rdi
    jz      .Lgrow
    leaq    64(%r10,%r11), %rsi         /* room the frame needs above the limit */
    cmpq    SP_SEG_ROOM(%rdi), %rsi
    ja      .Lgrow

.Lcontinue_on:                          /* rdi = the segment to run the body on */
    movq    SP_SEG_TOP(%rdi), %rsi
    subq    %r11, %rsi
    andq    $-16, %rsi                  /* the arguments' new place; ABI-aligned */
    xorl    %ecx, %ecx
    jmp     2f
1:  movq    0x18(%rbp,%rcx), %rax
    movq    %rax, (%rsi,%rcx)
    addq    $8, %rcx
2:  cmpq    %r11, %rcx
    jb      1b
    leaq    SP_SEG_LIMIT_OFFSET(%rdi), %rax
    movq    %rax, %fs:0x70
    movq    %rsi, %rsp
    movq    0x08(%rbp), %r10
    addq    $1, %r10                    /* the body, past the lone ret */
    movq    -0x08(%rbp), %rax
    movq    -0x10(%rbp), %rdi
    movq    -0x18(%rbp), %rsi
    movq    -0x20(%rbp), %rcx
    call    *%r10

    movq    %fs:0x70, %rcx
    subq    $SP_SEG_LIMIT_OFFSET, %rcx  /* the segment the body ran on */
    cmpq    $0, SP_SEG_NEXT(%rcx)
    jne     .Ltrim
.Lstep_back:
    movq    SP_SEG_PREV(%rcx), %rcx
    addq    $SP_SEG_LIMIT_OFFSET, %rcx
    movq    %rcx, %fs:0x70
    movq    %rbp, %rsp
    popq    %rbp
    .cfi_remember_state
    .cfi_def_cfa %rsp, 8
    ret
    .cfi_restore_state

.Ltrim:
    /* Keep one segment beyond the current one, not more: give back the
       segment the body's deeper calls used. Runs on the segment just left,
       which has all its room free again. */
    subq    $64, %rsp
    movq    %rax, 0x00(%rsp)
    movq    %rdx, 0x08(%rsp)
    movups  %xmm0, 0x10(%rsp)
    movups  %xmm1, 0x20(%rsp)
    movq    %rcx, %rdi
    call    sp_segment_trim@PLT
    movq    0x00(%rsp), %rax
    movq    0x08(%rsp), %rdx
    movups  0x10(%rsp), %xmm0
    movups  0x20(%rsp), %xmm1
    addq    $64, %rsp
    movq    %fs:0x70, %rcx
    subq    $SP_SEG_LIMIT_OFFSET, %rcx
    jmp     .Lstep_back

.Lgrow:
    /* No kept segment with room: get one in C, on the thread's own stack
       (below the saved stack pointer of the outermost resumer), since the
       segment that ran out has only its reserve left. The C code may use
       any caller-saved register: keep the argument registers. */
    SWITCH_TO_SYSTEM_STACK
    subq    $176, %rsp
    movups  %xmm0, 0x00(%rsp)
    movups  %xmm1, 0x10(%rsp)
    movups  %xmm2, 0x20(%rsp)
    movups  %xmm3, 0x30(%rsp)
    movups  %xmm4, 0x40(%rsp)
    movups  %xmm5, 0x50(%rsp)
    movups  %xmm6, 0x60(%rsp)
    movups  %xmm7, 0x70(%rsp)
    movq    %rdx, 0x80(%rsp)
    movq    %r8, 0x88(%rsp)
    movq    %r9, 0x90(%rsp)
    movq    %r11, 0x98(%rsp)
    movq    %rax, %rdi
    leaq    64(%r10,%r11), %rsi
    call    sp_segment_grow@PLT         /* never returns NULL */
    movq    %rax, %rdi
    movups  0x00(%rsp), %xmm0
    movups  0x10(%rsp), %xmm1
    movups  0x20(%rsp), %xmm2
    movups  0x30(%rsp), %xmm3
    movups  0x40(%rsp), %xmm4
    movups  0x50(%rsp), %xmm5
    movups  0x60(%rsp), %xmm6
    movups  0x70(%rsp), %xmm7
    movq    0x80(%rsp), %rdx
    movq    0x88(%rsp), %r8
    movq    0x90(%rsp), %r9
    movq    0x98(%rsp), %r11
    leaq    -0x20(%rbp), %rsp
    jmp     .Lcontinue_on

.Lin_place:
    /* Limit zero: a thread, or a goroutine on a reserved stack. Only
       __morestack_non_split sends a call here (a varargs function that
       needs this frame for its arguments): run the body where we are. */
    subq    $8, %rsp
    movq    0x08(%rbp), %r10
    addq    $1, %r10
    movq    -0x08(%rbp), %rax
    movq    -0x10(%rbp), %rdi
    movq    -0x18(%rbp), %rsi
    movq    -0x20(%rbp), %rcx
    call    *%r10
    movq    %rbp, %rsp
    popq    %rbp
    .cfi_def_cfa %rsp, 8
    ret
    .cfi_endproc
    .size   __morestack, . - __morestack

/*
 * gold and lld rewrite the prologue of a split-stack function that calls
 * code built without -fsplit-stack: the compare becomes stc, so every call
 * comes here. Enough room for the frame plus SP_SEG_NON_SPLIT_ROOM below
 * rsp: continue in place (at [rsp] + 1). Otherwise split, asking for that
 * much more. A varargs function always splits: its body expects
 * __morestack's frame in rbp.
 */
    .globl  __morestack_non_split
    .hidden __morestack_non_split
    .type   __morestack_non_split, @function
    .p2align 4
__morestack_non_split:
    .cfi_startproc
    pushq   %rax
    .cfi_adjust_cfa_offset 8
    movq    %rsp, %rax
    subq    %r10, %rax
    subq    $SP_SEG_NON_SPLIT_ROOM, %rax
    cmpq    %fs:0x70, %rax
    jb      1f
    movq    8(%rsp), %rax
    cmpl    $0x185d8d4c, 1(%rax)        /* lea 0x18(%rbp), %r11 */
    je      1f
    popq    %rax
    .cfi_adjust_cfa_offset -8
    addq    $1, (%rsp)
    ret
1:
    .cfi_adjust_cfa_offset 8
    popq    %rax
    .cfi_adjust_cfa_offset -8
    addq    $SP_SEG_NON_SPLIT_ROOM, %r10
    jmp     __morestack
    .cfi_endproc
    .size   __morestack_non_split, . - __morestack_non_split

/*
 * void *__morestack_allocate_stack_space(size_t size)
 * Called by split-stack code for an alloca or VLA that does not fit above
 * the limit: memory from sp_segment_alloca, obtained on the thread's own
 * stack. It belongs to the calling frame, identified by its stack pointer.
 */
    .globl  __morestack_allocate_stack_space
    .hidden __morestack_allocate_stack_space
    .type   __morestack_allocate_stack_space, @function
    .p2align 4
__morestack_allocate_stack_space:
    .cfi_startproc
    pushq   %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    movq    %rsp, %rbp
    .cfi_def_cfa_register %rbp
    movq    %fs:0x70, %rax
    subq    $SP_SEG_LIMIT_OFFSET, %rax
    SWITCH_TO_SYSTEM_STACK
    movq    %rdi, %rsi
    movq    %rax, %rdi
    leaq    16(%rbp), %rdx              /* the caller's stack pointer */
    call    sp_segment_alloca@PLT
    movq    %rbp, %rsp
    popq    %rbp
    .cfi_def_cfa %rsp, 8
    ret
    .cfi_endproc
    .size   __morestack_allocate_stack_space, . - __morestack_allocate_stack_space

    .section .note.GNU-stack,"",@progbits
/* These entry points manage their own stack: the linker must not treat
   calls to them (__morestack_allocate_stack_space is a plain call) as calls
   into code that is not split-stack. gold otherwise rewrites every function
   of a calling object to ask for 16 KiB more. Their own calls into
   libspindle have no prologue to adjust: the no-split note says so, as for
   functions marked no_split_stack. */
    .section .note.GNU-split-stack,"",@progbits
    .section .note.GNU-no-split-stack,"",@progbits

/* The marker split_module.c looks for: a module without it whose code is
   split-stack has another __morestack (libgcc's), and never starts on a
   segment. */
    .section SP_MORESTACK_MARKER,"",@progbits
    .asciz  "Spindle __morestack"
