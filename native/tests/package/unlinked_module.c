/* A goroutine module built without -lspindle: cc -shared -fPIC unlinked_module.c.
   It uses one libspindle function, so `spindle run` can name it. */
#include <spindle.h>

__attribute__((visibility("default"))) void spindle_main(void *arg)
{
    (void)arg;
    sp_gosched();
}
