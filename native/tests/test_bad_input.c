/* Every entry point given bad input returns its documented error. */
#include "check.h"
#include <spindle.h>
#include <spindle_host.h>
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
    CHECK_EQ(sp_block_enter(), SP_OK);
    /* Not run by a run loop: the engine's calls are refused, not posted. */
    CHECK_EQ(sp_sleep(123), SP_ENOTGOROUTINE);
    sp_chan ch = 1;
    CHECK_EQ(sp_chan_make(&ch, 8, 1), SP_ENOTGOROUTINE);
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
    CHECK(req != NULL && req->op == SP_OP_BLOCK_ENTER);
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

/* The engine's entries for the host: bounds, NULLs, handles of another kind,
   stale handles, parties. */
static void test_host_engine_bad_input(void)
{
    sp_wakes out = { 0 };
    sp_chan ch = 1;
    CHECK_EQ(sp_host_chan_make(NULL, 8, 1), SP_EINVAL);
    CHECK_EQ(sp_host_chan_make(&ch, -1, 1), SP_EINVAL);
    CHECK(ch == 0);
    CHECK_EQ(sp_host_chan_make(&ch, SP_CHAN_MAX_ELEM + 1, 1), SP_EINVAL);
    CHECK_EQ(sp_host_chan_make(&ch, 8, -1), SP_EINVAL);
    CHECK_EQ(sp_host_chan_make(&ch, SP_CHAN_MAX_ELEM, INT32_MAX), SP_EINVAL); /* above 2 GiB */

    sp_mutex mu;
    sp_wg wg;
    CHECK_EQ(sp_host_chan_make(&ch, 8, 1), SP_OK);
    CHECK_EQ(sp_host_mutex_make(&mu), SP_OK);
    CHECK_EQ(sp_host_wg_make(&wg), SP_OK);
    CHECK(ch != 0 && mu != 0 && wg != 0 && ch != mu && mu != wg && ch != wg);
    CHECK_EQ(sp_host_check(ch, SP_HANDLE_CHAN), SP_OK);
    CHECK_EQ(sp_host_check(mu, SP_HANDLE_CHAN), SP_EINVAL);
    CHECK_EQ(sp_host_check(ch ^ ((uint64_t)1 << 40), SP_HANDLE_CHAN), SP_ESTALE); /* another generation */
    int64_t v = 5;
    bool ok = true;
    CHECK_EQ(sp_host_chan_send(NULL, wg, &v, NULL, &out), SP_EINVAL);
    CHECK_EQ(sp_host_chan_send(NULL, ch, &v, NULL, NULL), SP_EINVAL);
    CHECK_EQ(sp_host_chan_send(NULL, ch, NULL, NULL, &out), SP_EINVAL);
    CHECK_EQ(sp_host_chan_send(NULL, ch, &v, NULL, &out), SP_OK);
    CHECK_EQ(sp_host_chan_send(NULL, ch, &v, NULL, &out), SP_WOULD_BLOCK); /* full, no party */
    CHECK_EQ(sp_host_chan_len(ch), 1);
    CHECK_EQ(sp_host_chan_cap(ch), 1);
    CHECK_EQ(sp_host_chan_cap(mu), SP_EINVAL);
    CHECK_EQ(sp_host_chan_elem_size(ch), 8);
    /* A sender parked on the full channel is counted, and a cancel takes it out. */
    int32_t senders = -1, receivers = -1;
    sp_party parked;
    sp_waiter parked_w;
    CHECK_EQ(sp_party_init(&parked, SP_PARTY_THREAD, 0, &parked_w, 1), SP_OK);
    CHECK_EQ(sp_host_chan_send(NULL, ch, &v, &parked, &out), SP_PARKED);
    CHECK_EQ(sp_host_chan_waiters(ch, &senders, &receivers), 0); /* open */
    CHECK(senders == 1 && receivers == 0);
    CHECK_EQ(sp_party_cancel(&parked), SP_OK);
    CHECK_EQ(sp_host_chan_waiters(ch, &senders, NULL), 0);
    CHECK(senders == 0);
    CHECK_EQ(sp_host_chan_waiters(mu, &senders, &receivers), SP_EINVAL);
    CHECK_EQ(sp_host_chan_waiters(0, NULL, NULL), SP_EINVAL);
    v = 0;
    CHECK_EQ(sp_host_chan_recv(NULL, ch, &v, &ok, NULL, &out), SP_OK);
    CHECK(ok && v == 5);
    CHECK_EQ(sp_host_chan_recv(NULL, ch, &v, &ok, NULL, &out), SP_WOULD_BLOCK);
    CHECK_EQ(sp_host_chan_close(NULL, 0, &out), SP_EINVAL);
    CHECK_EQ(sp_host_chan_close(NULL, mu, &out), SP_EINVAL);
    CHECK_EQ(sp_host_chan_close(NULL, ch, &out), SP_OK);
    CHECK_EQ(sp_host_chan_close(NULL, ch, &out), SP_ECLOSED);
    CHECK_EQ(sp_host_chan_waiters(ch, NULL, NULL), 1); /* closed */
    CHECK_EQ(sp_host_chan_recv(NULL, ch, &v, &ok, NULL, &out), SP_OK);
    CHECK(!ok && v == 0);
    CHECK_EQ(sp_host_chan_send(NULL, ch, &v, NULL, &out), SP_ECLOSED);
    CHECK_EQ(sp_host_mutex_unlock(NULL, mu, &out), SP_ESTATE);
    CHECK_EQ(sp_host_mutex_lock(NULL, ch, NULL, &out), SP_EINVAL);
    CHECK_EQ(sp_host_mutex_lock(NULL, mu, NULL, &out), SP_OK);
    CHECK_EQ(sp_host_mutex_lock(NULL, mu, NULL, &out), SP_WOULD_BLOCK);
    CHECK_EQ(sp_host_mutex_unlock(NULL, mu, &out), SP_OK);
    CHECK_EQ(sp_host_wg_add(NULL, wg, -1, &out), SP_EINVAL);
    CHECK_EQ(sp_host_wg_count(wg), 0);
    CHECK_EQ(sp_host_wg_add(NULL, wg, 2, &out), SP_OK);
    CHECK_EQ(sp_host_wg_wait(NULL, wg, NULL, &out), SP_WOULD_BLOCK);
    CHECK_EQ(sp_host_wg_count(mu), SP_EINVAL);
    CHECK_EQ(sp_host_ticker_stop(ch), SP_EINVAL); /* not a ticker */
    CHECK_EQ(sp_host_ticker_stop(0), SP_EINVAL);
    CHECK(out.managed == NULL && out.readied == 0);

    sp_party p;
    sp_waiter w[2];
    CHECK_EQ(sp_party_init(NULL, SP_PARTY_THREAD, 0, w, 1), SP_EINVAL);
    CHECK_EQ(sp_party_init(&p, SP_PARTY_GOROUTINE, 0, w, 1), SP_EINVAL); /* not the host's kind */
    CHECK_EQ(sp_party_init(&p, SP_PARTY_THREAD, 0, NULL, 1), SP_EINVAL);
    CHECK_EQ(sp_party_init(&p, SP_PARTY_THREAD, 0, w, -1), SP_EINVAL);
    CHECK_EQ(sp_party_cancel(NULL), SP_EINVAL);
    CHECK_EQ(sp_party_wait(NULL), SP_EINVAL);
    /* A thread party parked on a wait group, then cancelled: out of the queue. */
    CHECK_EQ(sp_party_init(&p, SP_PARTY_THREAD, 0, w, 1), SP_OK);
    CHECK_EQ(sp_host_wg_wait(NULL, wg, &p, &out), SP_PARKED);
    CHECK_EQ(sp_party_cancel(&p), SP_OK);
    CHECK_EQ(sp_party_cancel(&p), SP_ESTATE);
    CHECK_EQ(sp_party_wait(&p), SP_ECANCELED);
    CHECK(w[0].queue == NULL);

    CHECK_EQ(sp_host_release(0, &out), SP_EINVAL);
    CHECK_EQ(sp_host_release(ch, NULL), SP_EINVAL);
    CHECK_EQ(sp_host_release(ch, &out), SP_OK);
    CHECK_EQ(sp_host_release(ch, &out), SP_ESTALE);
    CHECK_EQ(sp_host_release(mu, &out), SP_OK);
    CHECK_EQ(sp_host_release(wg, &out), SP_OK);
    CHECK_EQ(sp_host_check(ch, SP_HANDLE_CHAN), SP_ESTALE);
    CHECK_EQ(sp_host_chan_len(ch), SP_ESTALE);
    CHECK_EQ(sp_host_chan_waiters(ch, NULL, NULL), SP_ESTALE);
    CHECK_EQ(sp_host_mutex_unlock(NULL, mu, &out), SP_ESTALE);
    CHECK_EQ(sp_host_wg_count(wg), SP_ESTALE);
    CHECK_EQ(sp_host_mark_outside(ch), SP_ESTALE);
}

static void test_error_names(void)
{
    const int codes[] = { SP_OK, SP_EINVAL, SP_ENOMEM, SP_ECLOSED, SP_ENOTGOROUTINE,
                          SP_ESTACKOVERFLOW, SP_ECALLBACK, SP_ESTALE, SP_ENOTSUP, SP_ESTATE,
                          SP_ENOTSPLIT, SP_ECANCELED };
    const char *names[] = { "SP_OK", "SP_EINVAL", "SP_ENOMEM", "SP_ECLOSED", "SP_ENOTGOROUTINE",
                            "SP_ESTACKOVERFLOW", "SP_ECALLBACK", "SP_ESTALE", "SP_ENOTSUP", "SP_ESTATE",
                            "SP_ENOTSPLIT", "SP_ECANCELED" };
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
    RUN(test_host_engine_bad_input);
    RUN(test_error_names);
    return test_summary();
}
