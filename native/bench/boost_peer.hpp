// boost.context's fcontext, the peer Spindle's switch is measured against:
// a ping-pong between the caller and one context on a malloc'd stack.
#pragma once

#include <boost/context/detail/fcontext.hpp>
#include <cstdlib>

namespace peer {
namespace ctx = boost::context::detail;

class BoostPingPong {
public:
    explicit BoostPingPong(std::size_t stack_size = 256 * 1024)
        : size_(stack_size), stack_(static_cast<char *>(std::malloc(stack_size))) {
        other_ = ctx::make_fcontext(stack_ + size_, size_, &BoostPingPong::loop);
        other_ = ctx::jump_fcontext(other_, nullptr).fctx; // run to its first jump back
    }
    ~BoostPingPong() { std::free(stack_); }
    BoostPingPong(const BoostPingPong &) = delete;
    BoostPingPong &operator=(const BoostPingPong &) = delete;

    // One round trip: two switches.
    void round_trip() { other_ = ctx::jump_fcontext(other_, nullptr).fctx; }

private:
    static void loop(ctx::transfer_t t) {
        for (;;)
            t = ctx::jump_fcontext(t.fctx, nullptr);
    }
    std::size_t size_;
    char *stack_;
    ctx::fcontext_t other_;
};
} // namespace peer
