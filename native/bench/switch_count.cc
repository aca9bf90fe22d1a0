// Runs N round trips (2N switches) of Spindle or boost.context, for
// callgrind: the difference between two values of N gives instructions per
// switch without start-up costs. Usage: switch_count spindle|boost N
#include "boost_peer.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <spindle.h>

static void yield_forever(void *) {
    for (;;)
        sp_coro_yield();
}

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s spindle|boost N\n", argv[0]);
        return 2;
    }
    long n = std::atol(argv[2]);
    if (std::strcmp(argv[1], "spindle") == 0) {
        sp_coro *co = nullptr;
        sp_coro_create(&co, yield_forever, nullptr, nullptr);
        for (long i = 0; i < n; i++)
            sp_coro_resume(co);
        sp_coro_destroy(co);
    } else if (std::strcmp(argv[1], "boost") == 0) {
        peer::BoostPingPong pp;
        for (long i = 0; i < n; i++)
            pp.round_trip();
    } else {
        std::fprintf(stderr, "unknown peer '%s'\n", argv[1]);
        return 2;
    }
    return 0;
}
