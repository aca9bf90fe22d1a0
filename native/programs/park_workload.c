/* See park_workload.h. */
#define _POSIX_C_SOURCE 200809L
#include "park_workload.h"

#include <spindle.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

typedef struct park_state {
    sp_chan ch;
    sp_wg done;
    _Atomic int64_t started, woken;
} park_state;

static void parker(void *p)
{
    park_state *s = p;
    int64_t v;
    atomic_fetch_add(&s->started, 1);
    sp_chan_recv(s->ch, &v, NULL);
    atomic_fetch_add(&s->woken, 1);
    sp_wg_done(s->done);
}

static int64_t resident_bytes(void)
{
    long pages_total = 0, pages_resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return -1;
    int got = fscanf(f, "%ld %ld", &pages_total, &pages_resident);
    fclose(f);
    return got == 2 ? (int64_t)pages_resident * sysconf(_SC_PAGESIZE) : -1;
}

int64_t wl_park(int64_t n, wl_park_result *out)
{
    static park_state s; /* outlives this call only while its goroutines run */
    int64_t errors = 0;
    atomic_store(&s.started, 0);
    atomic_store(&s.woken, 0);
    if (sp_chan_make(&s.ch, sizeof(int64_t), 0) != SP_OK || sp_wg_make(&s.done) != SP_OK ||
        sp_wg_add(s.done, (int)n) != SP_OK)
        return 1;
    out->resident_before = resident_bytes();
    for (int64_t i = 0; i < n; i++)
        errors += sp_go(parker, &s) != SP_OK;
    while (atomic_load(&s.started) < n - errors)
        sp_sleep(1000000);
    sp_sleep(20000000); /* the last ones to start reach their receive */
    out->resident_parked = resident_bytes();
    errors += sp_chan_close(s.ch) != SP_OK;
    errors += sp_wg_wait(s.done) != SP_OK;
    out->woken = atomic_load(&s.woken);
    sp_chan_release(s.ch);
    sp_wg_release(s.done);
    return errors;
}
