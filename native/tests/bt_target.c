/* Target for the gdb backtrace test: a breakpoint three calls deep inside a
   coroutine. The backtrace must end cleanly at sp_coro_trampoline. */
#include <spindle.h>
#include <stdio.h>

__attribute__((noinline)) void bt_probe(int *value) { (*value)++; __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) static void bt_level2(int *value) { bt_probe(value); (*value)++; }
__attribute__((noinline)) static void bt_level1(void *arg) { bt_level2(arg); (*(int *)arg)++; }

int main(void)
{
    int value = 0;
    sp_coro *co = NULL;
    if (sp_coro_create(&co, bt_level1, &value, NULL) != SP_OK)
        return 1;
    int status = sp_coro_resume(co);
    sp_coro_destroy(co);
    printf("status %d value %d\n", status, value);
    return status == SP_CORO_DONE && value == 3 ? 0 : 1;
}
