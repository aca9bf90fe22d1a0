// Google Benchmark: Spindle's coroutine switch and create/destroy, side by
// side with boost.context's jump_fcontext in the same run. Compare ratios,
// not absolute figures: the machine is shared.
#include "boost_peer.hpp"

#include <benchmark/benchmark.h>
#include <spindle.h>

static void yield_forever(void *) {
    for (;;)
        sp_coro_yield();
}

static void per_switch(benchmark::State &state) {
    state.counters["ns_per_switch"] = benchmark::Counter(
        2.0 * static_cast<double>(state.iterations()),
        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

static void BM_SpindleSwitch(benchmark::State &state) {
    sp_coro *co = nullptr;
    sp_coro_create(&co, yield_forever, nullptr, nullptr);
    for (auto _ : state)
        benchmark::DoNotOptimize(sp_coro_resume(co)); // resume + yield: two switches
    sp_coro_destroy(co);
    per_switch(state);
}
BENCHMARK(BM_SpindleSwitch);

static void BM_BoostContextSwitch(benchmark::State &state) {
    peer::BoostPingPong pp;
    for (auto _ : state)
        pp.round_trip();
    per_switch(state);
}
BENCHMARK(BM_BoostContextSwitch);

static void nothing(void *) {}

static void BM_SpindleCreateDestroy(benchmark::State &state) {
    sp_coro *co = nullptr;
    for (auto _ : state) {
        sp_coro_create(&co, nothing, nullptr, nullptr);
        sp_coro_destroy(co);
    }
}
BENCHMARK(BM_SpindleCreateDestroy);

static void BM_SpindleCreateRunDestroy(benchmark::State &state) {
    sp_coro *co = nullptr;
    for (auto _ : state) {
        sp_coro_create(&co, nothing, nullptr, nullptr);
        sp_coro_resume(co);
        sp_coro_destroy(co);
    }
}
BENCHMARK(BM_SpindleCreateRunDestroy);

static void BM_BoostContextMakeAndRun(benchmark::State &state) {
    // boost.context's cheapest start: make_fcontext on a stack that is
    // already allocated (no allocation or pooling measured), run to the end.
    static char stack[64 * 1024];
    for (auto _ : state) {
        auto fc = boost::context::detail::make_fcontext(stack + sizeof stack, sizeof stack,
            [](boost::context::detail::transfer_t t) {
                for (;;) t = boost::context::detail::jump_fcontext(t.fctx, nullptr);
            });
        benchmark::DoNotOptimize(boost::context::detail::jump_fcontext(fc, nullptr));
    }
}
BENCHMARK(BM_BoostContextMakeAndRun);

BENCHMARK_MAIN();
