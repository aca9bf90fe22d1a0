/* A minimal test harness: CHECK records a failure and goes on; RUN runs one
   test function and reports it; test_summary() is main's exit status. */
#ifndef SPINDLE_CHECK_H
#define SPINDLE_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                   \
            check_failures++;                                                 \
        }                                                                     \
    } while (0)

#define CHECK_EQ(a, b)                                                        \
    do {                                                                      \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);       \
        if (check_a_ != check_b_) {                                           \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);          \
            check_failures++;                                                 \
        }                                                                     \
    } while (0)

#define RUN(test)                                                             \
    do {                                                                      \
        int check_before_ = check_failures;                                   \
        test();                                                               \
        printf("%-48s %s\n", #test, check_failures == check_before_ ? "ok" : "FAILED"); \
        fflush(stdout);                                                       \
    } while (0)

static int test_summary(void)
{
    printf("%d check(s) failed\n", check_failures);
    return check_failures == 0 ? 0 : 1;
}

#endif
