/* A program for `spindle run`: main spawns goroutines and waits for them. */
#include <spindle.h>
#include <stdio.h>

static sp_wg done;

static void greeter(void *arg)
{
    sp_sleep((int64_t)(intptr_t)arg * 20000000); /* wake in order: 20, 40, 60 ms */
    printf("hello from goroutine %d\n", (int)(intptr_t)arg);
    sp_wg_done(done);
}

#if defined(_WIN32)
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
void spindle_main(void *arg)
{
    (void)arg;
    sp_wg_make(&done);
    sp_wg_add(done, 3);
    for (int i = 3; i >= 1; i--)
        sp_go(greeter, (void *)(intptr_t)i);
    sp_wg_wait(done);
    printf("all goroutines done\n");
}
