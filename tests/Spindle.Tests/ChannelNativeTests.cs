using Xunit;
using static Spindle.Interop.SpindleNative;

namespace Spindle.Tests;

/// <summary>Channels, select, timers and mutexes used by native goroutines
/// (native/tests/goroutines/chan_programs.c).</summary>
public unsafe class ChannelNativeTests
{
    private static void AssertNoFailedCheck(long[] io) =>
        Assert.True(io[0] == 0, $"{io[0]} checks failed, the first at chan_programs.c line {io[1]}");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void GoChannelRulesHold(int maxProcs)
    {
        var io = new long[2];
        TestPrograms.Run("tp_chan_rules", io, maxProcs);
        AssertNoFailedCheck(io);
    }

    [Fact]
    public void ZeroSizeElementsMakeSignalChannels()
    {
        var io = new long[2];
        TestPrograms.Run("tp_signal_channels", io, maxProcs: 2);
        AssertNoFailedCheck(io);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(2, 8)]
    [InlineData(4, 3)]
    public void FifoPerSenderUnderContentionNothingLostOrDuplicated(int maxProcs, int capacity)
    {
        const int senders = 6, each = 3000, receivers = 4;
        var io = new long[8];
        io[2] = senders;
        io[3] = each;
        io[4] = receivers;
        io[5] = capacity;
        TestPrograms.Run("tp_fifo_contention", io, maxProcs);
        AssertNoFailedCheck(io);
        Assert.Equal(senders * each, io[6]);
        Assert.Equal(senders * (long)each * (each + 1) / 2, io[7]);
    }

    [Fact]
    public void SelectChoosesAmongReadyCasesUniformly()
    {
        const int rounds = 100_000;
        var io = new long[5];
        io[2] = rounds;
        TestPrograms.Run("tp_select_fairness", io, maxProcs: 1);
        AssertNoFailedCheck(io);
        Assert.Equal(rounds, io[3] + io[4]);
        // Binomial(100000, 1/2): standard deviation 158; 8 of them (1,265) is passed by
        // chance with probability about 1e-15.
        Assert.InRange(io[3], rounds / 2 - 1265, rounds / 2 + 1265);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ParkedSelectLeavesNoWaiterBehindAndMeetsAnotherSelect(int maxProcs)
    {
        var io = new long[2];
        TestPrograms.Run("tp_select_parked", io, maxProcs);
        AssertNoFailedCheck(io);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void StressEveryMessageArrivesExactlyOnce(int maxProcs)
    {
        const int producers = 8, each = 2000, consumers = 5;
        var io = new long[9];
        io[2] = producers;
        io[3] = each;
        io[4] = consumers;
        TestPrograms.Run("tp_stress", io, maxProcs);
        AssertNoFailedCheck(io);
        Assert.Equal(producers * each, io[5]);
        Assert.Equal(producers * (long)each * (each + 1) / 2, io[6]);
        Assert.True(io[8] > 0, "no select took its default case");
    }

    [Fact]
    public void TimerChannelsFireNotEarlyAndTickersStop()
    {
        var io = new long[8];
        io[2] = 20_000_000; // 20 ms
        TestPrograms.Run("tp_timers", io, maxProcs: 2);
        AssertNoFailedCheck(io);
        Assert.Equal(1, io[3]);
        Assert.True(io[4] >= io[2], $"the timer case came after {io[4]} ns");
        Assert.Equal(3, io[5]);
        Assert.Equal(1, io[6]);
        Assert.Equal(0, io[7]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void MutexExcludesAndNothingIsLost(int maxProcs)
    {
        var io = new long[6];
        io[2] = 10;
        io[3] = 500;
        TestPrograms.Run("tp_mutex", io, maxProcs);
        AssertNoFailedCheck(io);
        Assert.Equal(10 * 500, io[4]);
        Assert.Equal(1, io[5]);
    }

    [Fact]
    public void BadInputGivesTheDocumentedCodes()
    {
        var io = new long[40];
        TestPrograms.Run("tp_chan_bad_input", io, maxProcs: 1);
        long[] expected =
        [
            SP_EINVAL, SP_EINVAL, SP_EINVAL, SP_EINVAL, 1, SP_OK, SP_EINVAL, SP_OK,
            SP_EINVAL, SP_EINVAL, SP_EINVAL, SP_EINVAL, SP_OK, 7, SP_EINVAL, SP_OK,
            SP_ESTALE, SP_ESTALE, SP_ESTALE, SP_ESTALE, SP_ESTALE, SP_ESTALE, SP_EINVAL,
            SP_EINVAL, SP_EINVAL, SP_EINVAL, SP_EINVAL, 12345,
        ];
        Assert.Equal(expected, io[..expected.Length]);
    }

    [Fact]
    public void ChannelCallsOutsideAGoroutineAreRefused()
    {
        Assert.Equal(SP_ENOTGOROUTINE, sp_chan_len(1));
        Assert.Equal(SP_ENOTGOROUTINE, sp_chan_close(1));
        Assert.Equal(SP_ENOTGOROUTINE, sp_mutex_unlock(1));
        Assert.Equal(SP_ENOTGOROUTINE, sp_select(null, 0, true));
    }

    [Fact]
    public void ReceivingFromTheNilChannelForeverIsADeadlock()
    {
        var e = Assert.Throws<DeadlockException>(() => TestPrograms.Run("tp_recv_nil_forever", new long[1], maxProcs: 2));
        GoroutineInfo main = Assert.Single(e.Goroutines);
        Assert.Equal(WaitReason.ChanReceiveNilChan, main.Reason);
        Assert.Contains("[chan receive (nil chan)", e.Message);
    }

    [Fact]
    public void ReceivingFromAChannelNobodySendsOnIsADeadlock()
    {
        var e = Assert.Throws<DeadlockException>(() => TestPrograms.Run("tp_recv_forever", new long[1], maxProcs: 1));
        Assert.Equal(WaitReason.ChanReceive, Assert.Single(e.Goroutines).Reason);
        Assert.Contains("[chan receive,", e.Message);
    }

    [Fact]
    public void SteadyStatePingPongAndBufferedStreamAllocateNothing()
    {
        var (probe, io) = AllocationProbe.RunOnOneWorker("tp_chan_pingpong_measured", 100_000);
        using var _ = probe;
        Assert.Equal(1, io[1]);
        Assert.True(probe.RanUndisturbed); // one worker ran the whole loop, its P never taken
        // The worker's own count: the process total also counts whatever the test
        // runner and earlier tests' threads and timers do meanwhile.
        Assert.Equal(0, probe.ThreadBytes);
    }
}
