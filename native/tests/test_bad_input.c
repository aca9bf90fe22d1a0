/* Every entry point given bad input returns its documented error. */
#include "check.h"
#include <spindle.h>
#include <string.h>

static void noop(void *arg) { (void)arg; }

static void test_null_arguments(void)
{
    sp_coro *co = NULL;
    CHECK_EQ(sp_coro_create(NULL, noop, NULL, NULL), SP_EINVAL);
    CHECK_EQ(sp_coro_create(&co, NULL, NULL, NULL), SP_EINVAL);
    CHECK(co == NULL);
    CHECK_EQ(sp_coro_resume(NULL), SP_EINVAL);
    CHECK_EQ(sp_coro_destroy(NULL), SP_EINVAL);
    CHECK_EQ(sp_coro_state(NULL), SP_EINVAL);
    CHECK_EQ(sp_coro_stack_used(NULL), 0);
    CHECK_EQ(sp_coro_stack_max(NULL), 0);
    CHECK_EQ(sp_coro_id(NULL), 0);
    CHECK(sp_coro_pending(NULL) == NULL);
}

static void test_destroyed_coroutine_is_stale(void)
{
    sp_coro *co = NULL;
    CHECK_EQ(sp_coro_create(&co, noop, NULL, NULL), SP_OK);
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
    CHECK_EQ(sp_coro_resume(co), SP_ESTALE);
    CHECK_EQ(sp_coro_destroy(co), SP_ESTALE);
    CHECK_EQ(sp_coro_state(co), SP_ESTALE);
    CHECK_EQ(sp_coro_stack_used(co), 0);
    CHECK_EQ(sp_coro_stack_max(co), 0);
    CHECK_EQ(sp_coro_id(co), 0);
    CHECK(sp_coro_pending(co) == NULL);
}

static void test_not_a_coroutine(void)
{
    /* Memory that never was a coroutine is refused, not trusted. */
    static union { sp_coro *align; char bytes[512]; } junk;
    memset(junk.bytes, 0x5a, sizeof junk.bytes);
    sp_coro *fake = (sp_coro *)junk.bytes;
    CHECK_EQ(sp_coro_resume(fake), SP_EINVAL);
    CHECK_EQ(sp_coro_destroy(fake), SP_EINVAL);
}

static void test_outside_a_coroutine(void)
{
    sp_request req = { .op = 1 };
    CHECK_EQ(sp_coro_yield(), SP_ENOTGOROUTINE);
    CHECK_EQ(sp_coro_request(&req), SP_ENOTGOROUTINE);
    CHECK(sp_coro_self() == NULL);
}

static void test_resume_finished(void)
{
    sp_coro *co = NULL;
    CHECK_EQ(sp_coro_create(&co, noop, NULL, NULL), SP_OK);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    CHECK_EQ(sp_coro_resume(co), SP_ESTATE);
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
}

static void test_error_names(void)
{
    const int codes[] = { SP_OK, SP_EINVAL, SP_ENOMEM, SP_ECLOSED, SP_ENOTGOROUTINE,
                          SP_ESTACKOVERFLOW, SP_ECALLBACK, SP_ESTALE, SP_ENOTSUP, SP_ESTATE };
    const char *names[] = { "SP_OK", "SP_EINVAL", "SP_ENOMEM", "SP_ECLOSED", "SP_ENOTGOROUTINE",
                            "SP_ESTACKOVERFLOW", "SP_ECALLBACK", "SP_ESTALE", "SP_ENOTSUP", "SP_ESTATE" };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        CHECK(strncmp(sp_strerror(codes[i]), names[i], strlen(names[i])) == 0 &&
              sp_strerror(codes[i])[strlen(names[i])] == ':');
    CHECK(strcmp(sp_strerror(12345), "unknown error") == 0);
    CHECK(strcmp(sp_strerror(-12345), "unknown error") == 0);
    CHECK(strcmp(sp_version(), SPINDLE_EXPECTED_VERSION) == 0);
    CHECK(strcmp(sp_stack_guard_mode_name(999), "unknown") == 0);
}

int main(void)
{
    RUN(test_null_arguments);
    RUN(test_destroyed_coroutine_is_stale);
    RUN(test_not_a_coroutine);
    RUN(test_outside_a_coroutine);
    RUN(test_resume_finished);
    RUN(test_error_names);
    return test_summary();
}
