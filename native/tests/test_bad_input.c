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
    CHECK_EQ(sp_coro_stack_kind(NULL), SP_EINVAL);
    CHECK_EQ(sp_systemstack(NULL, NULL), SP_EINVAL);
    CHECK_EQ(sp_is_split_stack(NULL), 0);
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
    CHECK_EQ(sp_coro_stack_kind(co), SP_ESTALE);
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

/* Goroutine calls need a goroutine of a running runtime: a thread or a plain
   coroutine gets SP_ENOTGOROUTINE and nothing happens. */
static void check_goroutine_calls_refused(void)
{
    sp_wg wg = 42;
    int64_t result = 7;
    CHECK_EQ(sp_go(noop, NULL), SP_ENOTGOROUTINE);
    CHECK_EQ(sp_gosched(), SP_ENOTGOROUTINE);
    CHECK_EQ(sp_sleep(1000), SP_ENOTGOROUTINE);
    CHECK_EQ(sp_block_enter(), SP_ENOTGOROUTINE);
    CHECK_EQ(sp_block_exit(), SP_ENOTGOROUTINE);
    CHECK_EQ(sp_call(1, NULL, &result), SP_ENOTGOROUTINE);
    CHECK_EQ(result, 7);
    CHECK_EQ(sp_wg_make(&wg), SP_ENOTGOROUTINE);
    CHECK_EQ(sp_wg_add(1, 1), SP_ENOTGOROUTINE);
    CHECK_EQ(sp_wg_done(1), SP_ENOTGOROUTINE);
    CHECK_EQ(sp_wg_wait(1), SP_ENOTGOROUTINE);
    CHECK_EQ(sp_wg_release(1), SP_ENOTGOROUTINE);
}

static void plain_coroutine_body(void *arg)
{
    (void)arg;
    check_goroutine_calls_refused();
}

static void test_goroutine_calls_outside_a_runtime(void)
{
    check_goroutine_calls_refused();
    sp_coro *co = NULL;
    CHECK_EQ(sp_coro_create(&co, plain_coroutine_body, NULL, NULL), SP_OK);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE); /* no request was posted */
    CHECK_EQ(sp_coro_destroy(co), SP_OK);

    sp_coro_options opts;
    memset(&opts, 0, sizeof opts);
    opts.flags = 0x100; /* unknown flag */
    CHECK_EQ(sp_coro_create(&co, noop, NULL, &opts), SP_EINVAL);
}

/* A goroutine's calls reach whoever resumes it as SP_OP_* requests. */
static void goroutine_body(void *arg)
{
    (void)arg;
    int64_t result = 0;
    CHECK_EQ(sp_call(5, (void *)(uintptr_t)40, &result), SP_OK);
    CHECK_EQ(result, 42);
    CHECK_EQ(sp_go(NULL, NULL), SP_EINVAL); /* refused before posting */
    CHECK_EQ(sp_sleep(123), SP_OK);
}

static void test_goroutine_calls_become_requests(void)
{
    sp_coro_options opts;
    memset(&opts, 0, sizeof opts);
    opts.flags = SP_CORO_GOROUTINE;
    sp_coro *co = NULL;
    CHECK_EQ(sp_coro_create(&co, goroutine_body, NULL, &opts), SP_OK);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_REQUEST);
    sp_request *req = sp_coro_pending(co);
    CHECK(req != NULL && req->op == SP_OP_CALL && req->args[0] == 5 && req->args[1] == 40);
    req->value = 42;
    req->result = SP_OK;
    CHECK_EQ(sp_coro_resume(co), SP_CORO_REQUEST);
    req = sp_coro_pending(co);
    CHECK(req != NULL && req->op == SP_OP_SLEEP && (int64_t)req->args[0] == 123);
    req->result = SP_OK;
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
}

static void test_resume_finished(void)
{
    sp_coro *co = NULL;
    CHECK_EQ(sp_coro_create(&co, noop, NULL, NULL), SP_OK);
    CHECK_EQ(sp_coro_resume(co), SP_CORO_DONE);
    CHECK_EQ(sp_coro_resume(co), SP_ESTATE);
    CHECK_EQ(sp_coro_destroy(co), SP_OK);
}

/* The channel-state entries the managed runtime uses: bounds, NULLs, unknown
   handles, empty queues. */
static void test_channel_state_bad_input(void)
{
    sp_chan_state *ch = (sp_chan_state *)&ch; /* overwritten with NULL on error */
    CHECK_EQ(sp_chan_state_make(NULL, 8, 1), SP_EINVAL);
    CHECK_EQ(sp_chan_state_make(&ch, -1, 1), SP_EINVAL);
    CHECK(ch == NULL);
    CHECK_EQ(sp_chan_state_make(&ch, SP_CHAN_MAX_ELEM + 1, 1), SP_EINVAL);
    CHECK_EQ(sp_chan_state_make(&ch, 8, -1), SP_EINVAL);
    CHECK_EQ(sp_chan_state_make(&ch, SP_CHAN_MAX_ELEM, INT32_MAX), SP_EINVAL); /* above 2 GiB */
    CHECK_EQ(sp_chan_state_free(NULL), SP_EINVAL);
    CHECK_EQ(sp_chan_publish(0, NULL), SP_EINVAL);
    CHECK(sp_chan_take_waiter(NULL, true) == NULL);
    sp_chan_remove_waiter(NULL);
    sp_chan_unpublish(12345); /* never published: ignored */

    CHECK_EQ(sp_chan_state_make(&ch, 8, 4), SP_OK);
    CHECK(ch != NULL && ch->lock == 0 && ch->flags == 0 && ch->count == 0 && ch->capacity == 4);
    CHECK(ch->buffer != NULL);
    CHECK_EQ(sp_chan_publish(0, ch), SP_EINVAL);
    CHECK_EQ(sp_chan_publish(((uint64_t)1 << 32) | 1, ch), SP_OK);
    CHECK_EQ(ch->handle, ((uint64_t)1 << 32) | 1);
    CHECK(sp_chan_take_waiter(ch, false) == NULL && sp_chan_take_waiter(ch, true) == NULL);
    sp_chan_waiter lone = { 0 }; /* in no queue: removing it changes nothing */
    sp_chan_remove_waiter(&lone);
    sp_chan_unpublish(((uint64_t)1 << 32) | 1);
    CHECK_EQ(sp_chan_state_free(ch), SP_OK);
    /* A state comes back from the pool clean, with an unlocked lock. */
    sp_chan_state *again = NULL;
    CHECK_EQ(sp_chan_state_make(&again, 0, 0), SP_OK);
    CHECK(again != NULL && again->lock == 0 && again->flags == 0 && again->handle == 0 &&
          again->buffer == NULL && again->recv_first == NULL && again->send_first == NULL);
    CHECK_EQ(sp_chan_state_free(again), SP_OK);
}

static void test_error_names(void)
{
    const int codes[] = { SP_OK, SP_EINVAL, SP_ENOMEM, SP_ECLOSED, SP_ENOTGOROUTINE,
                          SP_ESTACKOVERFLOW, SP_ECALLBACK, SP_ESTALE, SP_ENOTSUP, SP_ESTATE,
                          SP_ENOTSPLIT };
    const char *names[] = { "SP_OK", "SP_EINVAL", "SP_ENOMEM", "SP_ECLOSED", "SP_ENOTGOROUTINE",
                            "SP_ESTACKOVERFLOW", "SP_ECALLBACK", "SP_ESTALE", "SP_ENOTSUP", "SP_ESTATE",
                            "SP_ENOTSPLIT" };
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
    RUN(test_goroutine_calls_outside_a_runtime);
    RUN(test_goroutine_calls_become_requests);
    RUN(test_channel_state_bad_input);
    RUN(test_error_names);
    return test_summary();
}
