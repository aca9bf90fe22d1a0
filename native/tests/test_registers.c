/* Every callee-saved register survives a switch, in both directions: the
   coroutine's values across a yield, and the resumer's across a resume,
   while the other side runs with different values in the same registers. */
#include "check.h"
#include "test_thread.h"
#include <spindle.h>
#include <string.h>

void sp_test_regs_call(const uint64_t *in, uint64_t *out, void (*fn)(void *), void *arg);

#if defined(_WIN32) && defined(__x86_64__)
enum { NREGS = 29, CONTROL = 8 };
#  include <intrin.h>
#elif defined(__x86_64__)
enum { NREGS = 7, CONTROL = 6 };
#elif defined(__aarch64__)
enum { NREGS = 19, CONTROL = -1 };
#endif

/* Distinct, non-default control words: each side of a switch runs with its
   own rounding mode, flush-to-zero setting and x87 precision. */
static uint64_t control_word(int variant)
{
    static const uint32_t mxcsr[] = { 0x1F80 | 0x6000 | 0x8000, 0x1F80 | 0x2000 | 0x0040, 0x1F80 | 0x4000 };
    static const uint16_t x87cw[] = { 0x0F7F, 0x007F, 0x027F };
    return mxcsr[variant] | ((uint64_t)x87cw[variant] << 32);
}

static void fill(uint64_t *regs, uint64_t seed, int variant)
{
    for (int i = 0; i < NREGS; i++)
        regs[i] = seed * 0x9E3779B97F4A7C15ull + (uint64_t)i * 0x0101010101010101ull + 1;
    if (CONTROL >= 0)
        regs[CONTROL] = control_word(variant);
}

/* The control bits compared: all of them (not the sticky status flags), or
   only the rounding-control fields under valgrind, which models no others. */
static uint64_t control_mask(void)
{
    return getenv("SPINDLE_TEST_VALGRIND") != NULL ? 0x0C0000006000ull : 0xFFFF0000FFC0ull;
}

static void check_same(const uint64_t *want, const uint64_t *got, const char *what)
{
    for (int i = 0; i < NREGS; i++) {
        uint64_t w = want[i], g = got[i];
        if (i == CONTROL) {
            w &= control_mask();
            g &= control_mask();
        }
        if (w != g) {
            fprintf(stderr, "%s: register slot %d: want %016" PRIx64 " got %016" PRIx64 "\n",
                    what, i, w, g);
            check_failures++;
        }
    }
}

static uint64_t co_in[NREGS], co_out[NREGS];

static void yield_once(void *unused)
{
    (void)unused;
    CHECK_EQ(sp_coro_yield(), SP_OK);
}

static void coroutine_body(void *unused)
{
    (void)unused;
    sp_test_regs_call(co_in, co_out, yield_once, NULL);
}

static void resume_it(void *co)
{
    CHECK_EQ(sp_coro_resume(co), SP_CORO_SUSPENDED);
}

static void resume_to_end(void *co)
{
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
}

static void round_trip(int second_resume_on_other_thread)
{
    uint64_t main_in[NREGS], main_out[NREGS];
    sp_coro *co = NULL;
    fill(co_in, 11, 0);
    memset(co_out, 0, sizeof co_out);
    CHECK_EQ(sp_coro_create(&co, coroutine_body, NULL, NULL), SP_OK);

    /* The coroutine loads co_in and yields: the resumer's values must come back. */
    fill(main_in, 22, 1);
    sp_test_regs_call(main_in, main_out, resume_it, co);
    check_same(main_in, main_out, "resumer across resume #1");

    /* Resume with other values in the resumer; the coroutine's come back to it. */
    fill(main_in, 33, 2);
    if (second_resume_on_other_thread)
        run_on_new_thread(resume_to_end, co);
    else
        sp_test_regs_call(main_in, main_out, resume_to_end, co);
    check_same(co_in, co_out, "coroutine across yield");
    if (!second_resume_on_other_thread)
        check_same(main_in, main_out, "resumer across resume #2");
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
}

static void test_registers_survive_both_directions(void) { round_trip(0); }
static void test_registers_survive_resume_on_another_thread(void) { round_trip(1); }

#if defined(_WIN32)
/* The TEB's stack fields follow the running stack and come back after. */
static uintptr_t seen_base, seen_limit, seen_local;

static void record_teb(void *unused)
{
    (void)unused;
    NT_TIB *tib = (NT_TIB *)NtCurrentTeb();
    volatile char local = 0;
    seen_base = (uintptr_t)tib->StackBase;
    seen_limit = (uintptr_t)tib->StackLimit;
    seen_local = (uintptr_t)&local;
}

static void test_teb_stack_fields_follow_the_stack(void)
{
    NT_TIB *tib = (NT_TIB *)NtCurrentTeb();
    void *base = tib->StackBase, *limit = tib->StackLimit;
    sp_coro *co = NULL;
    CHECK_EQ(sp_coro_create(&co, record_teb, NULL, NULL), SP_OK);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    CHECK(seen_local < seen_base && seen_local >= seen_limit);
    CHECK(seen_base != (uintptr_t)base);
    CHECK(tib->StackBase == base && tib->StackLimit == limit);
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
}
#endif

int main(void)
{
    RUN(test_registers_survive_both_directions);
    RUN(test_registers_survive_resume_on_another_thread);
#if defined(_WIN32)
    RUN(test_teb_stack_fields_follow_the_stack);
#endif
    return test_summary();
}
