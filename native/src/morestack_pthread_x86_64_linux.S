/*
 * __wrap_pthread_create for goroutine modules linked in one step with
 * -fsplit-stack on the link line (gcc -fsplit-stack prog.c `pkg-config
 * --cflags --libs spindle-goroutine`). gcc then adds --wrap=pthread_create,
 * for libgcc's wrapper, which sets up libgcc's split-stack state in each new
 * thread and pulls in libgcc's __morestack: a clash with Spindle's. This
 * member of libspindle_morestack.a, linked only when --wrap asks for
 * __wrap_pthread_create, goes straight to pthread_create: Spindle keeps no
 * per-thread split-stack state, and a thread's code runs with the limit slot
 * as the thread has it (Spindle restores it whenever it leaves a segment).
 *
 * This object has no .note.GNU-split-stack: to gold and lld it is code that
 * is not split-stack, so a split-stack caller is given the extra room that
 * pthread_create needs.
 */
    .text
    .globl  __wrap_pthread_create
    .hidden __wrap_pthread_create
    .type   __wrap_pthread_create, @function
    .p2align 4
__wrap_pthread_create:
    .cfi_startproc
    jmp     __real_pthread_create@PLT
    .cfi_endproc
    .size   __wrap_pthread_create, . - __wrap_pthread_create

    .section .note.GNU-stack,"",@progbits
