/* Runs a goroutine workload of channel_workloads.h on one processor, for
   callgrind: the difference between two round counts gives the instructions
   of one switch or one round trip, without start-up costs. Run against two
   builds of libspindle (LD_LIBRARY_PATH), it shows what a build option costs
   the engine's own paths exactly, where wall-clock figures on a shared
   machine move by more than the difference.
   Usage: engine_count yield|pingpong ROUNDS */
#include "channel_workloads.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int pingpong;
    int64_t rounds;
    int64_t result;
} run;

static void body(void *arg)
{
    run *r = arg;
    if (r->pingpong) {
        r->result = wl_pingpong(r->rounds);
    } else {
        wl_yield_pair(r->rounds);
        r->result = r->rounds;
    }
}

int main(int argc, char **argv)
{
    run r = { 0 };
    char *end = NULL;
    if (argc == 3) {
        r.pingpong = strcmp(argv[1], "pingpong") == 0;
        r.rounds = strtoll(argv[2], &end, 10);
    }
    if (argc != 3 || (!r.pingpong && strcmp(argv[1], "yield") != 0) || end == NULL || *end != '\0' || r.rounds <= 0) {
        fprintf(stderr, "usage: %s yield|pingpong ROUNDS (ROUNDS > 0)\n", argv[0]);
        return 2;
    }
    if (harness_run(body, &r, 1) != 0)
        return 1;
    if (r.result != r.rounds) {
        fprintf(stderr, "engine_count: %s made %lld rounds of %lld\n", argv[1], (long long)r.result,
                (long long)r.rounds);
        return 1;
    }
    return 0;
}
