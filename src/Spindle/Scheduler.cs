using System.Diagnostics;
using Spindle.Interop;
using static Spindle.Interop.SpindleNative;
using static Spindle.Interop.SpindleHost;

namespace Spindle;

// The M:N scheduler, after Go's (runtime/proc.go).
//
// The model. Goroutines (G) run on worker threads (M); an M must hold a processor (P) to
// run them, and there are GOMAXPROCS Ps. Each P has a local run queue (native: a ring of
// 256 and a runnext slot), its timers (a native heap) and a free list of goroutine records;
// a global run queue takes the overflow. An M that runs out of work runs other Ps' due
// timers, steals half of another P's queue (four passes, runnext only on the last, after a
// 3 us pause, as Go's stealWork), and otherwise gives up its P and parks until a timer is
// due or new work wakes it (wakep). A monitor thread (Go's sysmon) takes the P from an M
// stuck in a blocking call for more than 1 ms or in one goroutine for more than 10 ms, and
// hands it to another M (handoff).
//
// The one hard rule. No managed frame ever runs on a goroutine stack. Native goroutines run
// in the native run loop (sp_runq_run, run_loop.c), which switches between them by itself
// while they yield, park, spawn and finish, and returns to this code, on the M's own stack,
// only for what it cannot do: a managed goroutine next, a runtime call (a blocking
// section, a managed callback), managed parties to resolve, its budget spent. Managed
// goroutines are async methods whose steps run here: each step is a continuation the
// goroutine's SynchronizationContext (or a Spindle wait completing) queued for it.
//
// Channels, select, timers, mutexes and wait groups are the native engine's
// (docs/architecture.md). This code meets them only as parties: a managed goroutine's wait
// parks it (its step ends with the goroutine Waiting), the engine completes the party, and
// the continuation becomes the goroutine's next step (PostStep readies it). A native
// goroutine the engine readies goes straight into a run queue without this code.
//
// Invariants.
// - A G is runnable (in exactly one run queue), running (on exactly one M), waiting (in
//   what it waits on, or nowhere for a wait that never ends), or dead. Deadlock detection
//   must never see a moment where a live G is none of these: a G is queued before its wait
//   stops being counted (PostStep, the engine's ready), and a worker that lost its P counts
//   in RunningWithoutP until its G is accounted for again.
// - Only the M holding a P touches its run queue's tail and runnext; thieves take from the
//   head by CAS. The monitor takes a P from a run loop that is switching by a CAS of the
//   status word, a process-wide barrier, and a wait for the loop's busy flag
//   (run_loop.c explains the handshake): the loop never locks on its switch path.
// - Deadlock: every P idle, nothing runnable anywhere, no timer pending, no M running
//   without a P, no goroutine waiting on something a thread outside Spindle could end
//   (an object C# made or named, a Task) — yet goroutines are alive.
//
// Alternatives rejected. A scheduler in C# that drives every switch (a trip into managed
// code per yield: 111 ns a yield, against about 30 with the native run loop); goroutines
// on the thread pool (no GOMAXPROCS, no runnext locality, no deadlock detection); a lock
// around the run queues (Go's lock-free ring costs one CAS for a thief, none for the owner).

/// <summary>The M:N scheduler of one runtime (see the comment above).</summary>
internal sealed unsafe partial class Scheduler
{
    private readonly Lock _lock = new();
    private Processor[] _allPs = [];
    private volatile int _maxProcs;
    private readonly List<Processor> _idlePs = [];
    private volatile int _idlePCount;
    private readonly List<Machine> _idleMs = [];
    private readonly List<Machine> _allMs = [];
    private readonly GoroutineTable _goroutines;
    private readonly GlobalQueue _globalQ;
    private int _nmspinning;
    private volatile bool _stopping;
    private readonly ManualResetEventSlim _finished = new();
    private Exception? _failure;
    private RuntimeMonitor? _monitor;

    // Counters (read by the monitor, deadlock detection, stats and tests).
    /// <summary>Goroutines started and not finished, counted by the native records.</summary>
    internal int LiveGoroutines => _goroutines.Live;
    internal int RunningWithoutP;
    /// <summary>Managed goroutines waiting on something a thread outside may end (native
    /// goroutines' such waits libspindle counts: sp_sched_outside_waits).</summary>
    internal int ExternalWaits;
    internal int OwnedPs;
    internal int PeakOwnedPs;
    internal long HogsRetaken;
    internal long BlockingRetaken;
    internal long CallbackFailures;

    internal readonly CallbackRegistry Callbacks;

    public Scheduler(int maxProcs, CallbackRegistry callbacks)
    {
        Callbacks = callbacks;
        _goroutines = new GoroutineTable(this, Runtime.Stacks, Runtime.MaxStack);
        _globalQ = new GlobalQueue(_goroutines);
        SetMaxProcsLocked(maxProcs);
    }

    public int MaxProcs => _maxProcs;
    public bool Stopping => _stopping;

    // ---------------------------------------------------------------- lifecycle

    public void Start()
    {
        // The first call of a P/Invoke binds its symbol, which allocates; make that first
        // call here for the ones the hot path meets late (a goroutine's exit, the run
        // loop's return when its budget is spent), not in the middle of a steady-state
        // loop. (NULL is refused or answers nothing.)
        _ = sp_coro_destroy(null);
        _ = sp_sched_take_wakes(null);
        _ = sp_clock_now();
        _monitor = new RuntimeMonitor(this);
        _monitor.Start();
        RuntimeMeter.EnsurePump();
    }

    /// <summary>Waits for the main goroutine (or a failure), then stops the workers.</summary>
    public void WaitForMain()
    {
        _finished.Wait();
        Stop();
        if (_failure is not null)
        {
            // What led to it, while the flight recorder (if it runs) still holds it.
            SwitchTrace.DumpOnFailure(_failure is DeadlockException ? "deadlock" : "failure");
            throw _failure;
        }
    }

    public void Fail(Exception e)
    {
        lock (_lock)
            _failure ??= e;
        _finished.Set();
    }

    /// <summary>How long Stop waits, in all, for every worker to come back: the ones between
    /// two goroutines or parked, and the ones in a goroutine, whose run loop comes back at
    /// that goroutine's next switch.</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(1);

    /// <summary>Like a Go program's exit: main has returned, so everything stops now. Every
    /// processor held inside a goroutine is taken (its run loop stops at the goroutine's
    /// next switch), and Stop waits, at most StopGrace in all, for every worker to end.
    /// Then nothing runs the runtime's code any more: goroutines still parked are
    /// discarded, their stacks freed, and the objects the runtime's goroutines made are
    /// released. A worker still inside a goroutine after the grace (one that spins, a long
    /// blocking call) is left behind, as a Go program's exit would not wait for it either;
    /// that cleanup then waits for it on a background thread, because until it comes back
    /// its goroutine may still touch the others' stacks and the runtime's objects.</summary>
    private void Stop()
    {
        _stopping = true;
        Machine[] ms;
        lock (_lock)
            ms = [.. _allMs];
        foreach (Machine m in ms)
            m.Unpark();
        _monitor?.Stop();
        // A processor held inside a resume is taken, as the monitor takes a hog's: the run
        // loop on it stops at its next switch.
        foreach (Processor p in _allPs)
        {
            long status = Volatile.Read(ref p.Status);
            long state = Processor.StateOf(status);
            if (state == Processor.InGoroutine || state == Processor.InBlocking)
                TryRetake(p, status);
        }
        var deadline = DateTime.UtcNow + StopGrace;
        var behind = new List<Thread>();
        foreach (Machine m in ms)
        {
            if (m.Thread == Thread.CurrentThread)
                continue;
            TimeSpan left = deadline - DateTime.UtcNow;
            if (!m.Thread.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
                behind.Add(m.Thread);
        }
        SwitchTrace.Flush(); // the run's records reach the sessions that stream them
        RuntimeMeter.RuntimeEnded(this);
        if (behind.Count == 0)
        {
            ReleaseWhatRemains();
            return;
        }
        new Thread(() =>
        {
            foreach (Thread t in behind)
                t.Join();
            ReleaseWhatRemains();
        }) { IsBackground = true, Name = "spindle stop cleanup" }.Start();
    }

    /// <summary>Once no worker runs: discards every goroutine still alive (parked, queued,
    /// or stopped between two switches), frees its stack, and releases the runtime's
    /// objects; parties outside the runtime waiting on them get SP_ESTALE.</summary>
    private void ReleaseWhatRemains()
    {
        var woken = new sp_wakes();
        if (_goroutines.Live != 0)
        {
            _goroutines.ForEach(g =>
            {
                if (g.Kind == GoroutineKind.Native && g.Coro is not null)
                {
                    // A goroutine that parked outside its run loop holds what it parked
                    // under (a channel's lock) until the park is committed; its worker
                    // may have left without committing it.
                    sp_request* req = sp_coro_pending(g.Coro);
                    if (req != null && req->op == SP_OP_PARK)
                        sp_host_commit_park(g.Native, req);
                }
                Discard(g);
                if (g.Kind == GoroutineKind.Native && g.Coro is not null)
                {
                    sp_coro_destroy(g.Coro);
                    g.Coro = null;
                }
            });
        }
        sp_sched_release_objects(_goroutines.Sched, &woken);
        Engine.Finish(woken); // parties outside the runtime waiting on its objects: SP_ESTALE
        // Timers of channels C# made inside the runtime fire only while it runs.
        foreach (Processor p in _allPs)
            sp_host_move_timers(p.RunQ.Native, null);
    }

    // ---------------------------------------------------------------- goroutines

    private Goroutine NewG(Machine? m, GoroutineKind kind)
    {
        Goroutine g = _goroutines.New(m?.P); // numbered and counted live there
        g.Kind = kind;
        g.ParkReason = WaitReason.None;
        g.ParkOutside = g.CountedOutside = false;
        g.ParkedOn = null;
        g.ParkObject = 0;
        g.TaskWatched = false;
        return g;
    }

    private void FreeG(Machine? m, Goroutine g)
    {
        g.Coro = null;
        g.Body = null;
        g.LockSteps(); // a body watch may be posting to it (WatchBodyEnd)
        g.Task = null;
        g.ClearSteps();
        g.UnlockSteps();
        g.ClearLocals();
        _goroutines.Free(m?.P, g); // Dead, and out of the live count
    }

    /// <summary>Starts a native goroutine running fn(arg).</summary>
    public int SpawnNative(delegate* unmanaged<void*, void> fn, void* arg, bool isMain = false)
    {
        Machine? m = Machine.CurrentMachine;
        Goroutine g = NewG(m, GoroutineKind.Native);
        // Its stack is taken when it first runs (sp_g_start, or the run loop).
        int err = sp_g_init_native(_goroutines.Sched, g.Native, (delegate* unmanaged<void*, void>)fn, arg);
        if (err != SP_OK)
        {
            FreeG(m, g);
            return err;
        }
        g.IsMain = isMain;
        g.SetState(GoroutineState.Runnable);
        TraceCreated(m, g);
        Ready(g, next: true);
        return SP_OK;
    }

    /// <summary>Starts a managed goroutine running body.</summary>
    public long SpawnManaged(Func<Task> body, bool isMain = false)
    {
        Machine? m = Machine.CurrentMachine;
        Goroutine g = NewG(m, GoroutineKind.Managed);
        g.Body = body;
        g.IsMain = isMain;
        g.SetState(GoroutineState.Runnable);
        TraceCreated(m, g);
        Ready(g, next: true);
        return g.Id;
    }

    // ---------------------------------------------------------------- run queues

    /// <summary>Puts g on p's local queue (p owned by the caller), spilling half of a
    /// full queue to the global one. No scheduler lock: only a worker holding p does
    /// this, and deadlock detection and handoffs look at the queues only while no
    /// worker holds the P.</summary>
    private static void RunqPut(Processor p, Goroutine g, bool next) => p.RunQ.PutOrSpill(g, next);

    /// <summary>The running goroutine goes back to the tail of this worker's queue.</summary>
    private void Requeue(Machine m, Goroutine g)
    {
        g.SetState(GoroutineState.Runnable);
        RunqPut(m.P!, g, next: false);
    }

    /// <summary>Makes a goroutine runnable from anywhere: this M's P when the caller is a
    /// worker holding one, else the global queue; then wakes an idle worker if any.</summary>
    public void Ready(Goroutine g, bool next = false)
    {
        Processor? p = Machine.CurrentMachine?.P;
        if (p is not null && !p.Retiring)
        {
            RunqPut(p, g, next);
        }
        else
        {
            lock (_lock)
                _globalQ.Push(g);
        }
        Wakep();
    }

    private Goroutine? GlobalGetBatch(Processor p) => _globalQ.TakeBatch(p, Math.Max(1, _maxProcs));

    // ---------------------------------------------------------------- processors and workers

    private Processor? PopIdlePLocked()
    {
        if (_idlePs.Count == 0)
            return null;
        Processor p = _idlePs[^1];
        _idlePs.RemoveAt(_idlePs.Count - 1);
        _idlePCount = _idlePs.Count;
        return p;
    }

    private void PushIdlePLocked(Processor p)
    {
        p.SetIdle();
        if (p.Retiring)
            return;
        _idlePs.Add(p);
        _idlePCount = _idlePs.Count;
    }

    private void TakeP(Machine m, Processor p)
    {
        m.NextP = null;
        m.P = p;
        p.Acquire();
        if (SwitchTrace.Active)
            sp_trace_mark(SP_TRACE_MARK_PROCESSOR, p.Id, 0);
        int owned = Interlocked.Increment(ref OwnedPs);
        int peak;
        while (owned > (peak = Volatile.Read(ref PeakOwnedPs)) &&
               Interlocked.CompareExchange(ref PeakOwnedPs, owned, peak) != peak)
        {
        }
    }

    private void ReleasePLocked(Machine m)
    {
        Processor p = m.P!;
        m.P = null;
        if (SwitchTrace.Active)
            sp_trace_mark(SP_TRACE_MARK_PROCESSOR, -1, 0);
        Interlocked.Decrement(ref OwnedPs);
        IdleOrRetirePLocked(p);
    }

    /// <summary>A P nobody holds: idle, or retired if above GOMAXPROCS (under _lock).</summary>
    private void IdleOrRetirePLocked(Processor p)
    {
        if (p.Retiring)
            RetirePLocked(p);
        else
            PushIdlePLocked(p);
    }

    /// <summary>A P above GOMAXPROCS gives its work away and stops (under _lock).</summary>
    private void RetirePLocked(Processor p)
    {
        for (Goroutine? g = p.RunQ.Get(); g is not null; g = p.RunQ.Get())
            _globalQ.Push(g);
        sp_host_move_timers(p.RunQ.Native, _allPs[0].RunQ.Native);
        sp_sched_drain_free(_goroutines.Sched, p.RunQ.Native);
        p.SetIdle(); // Retired, since Retiring
    }

    /// <summary>Wakes an idle worker to look for work, if a P is idle and nobody is
    /// already spinning (Go's wakep).</summary>
    public void Wakep()
    {
        if (_idlePCount == 0 || _stopping)
            return;
        if (Interlocked.CompareExchange(ref _nmspinning, 1, 0) != 0)
            return;
        StartM(null, spinning: true);
    }

    /// <summary>Runs p (or an idle P) on an idle or new worker.</summary>
    private void StartM(Processor? p, bool spinning)
    {
        Machine? m;
        bool fresh = false;
        lock (_lock)
        {
            p ??= PopIdlePLocked();
            if (p is null)
            {
                if (spinning)
                    Interlocked.Decrement(ref _nmspinning);
                return;
            }
            if (_idleMs.Count > 0)
            {
                m = _idleMs[^1];
                _idleMs.RemoveAt(_idleMs.Count - 1);
            }
            else
            {
                m = new Machine(this, _allMs.Count);
                fresh = true;
            }
            m.NextP = p;
            m.Spinning = spinning;
            if (fresh)
            {
                // Started before Stop can see it: Stop joins every worker in _allMs.
                m.Start();
                _allMs.Add(m);
            }
        }
        if (!fresh)
            m.Unpark();
    }

    /// <summary>Gives a P that nobody runs (retaken, or released with work) to a worker
    /// if it has anything to do, else makes it idle (Go's handoffp).</summary>
    public void Handoff(Processor p)
    {
        lock (_lock)
        {
            // Decided under the lock: a worker that lost this P may be putting its
            // goroutine on the global queue (ReacquireP) at this moment, and must not
            // find the P still owned while this makes it idle with work waiting.
            bool work = !p.RunQ.IsEmpty || _globalQ.Count > 0 || sp_host_next_timer(p.RunQ.Native) != long.MaxValue;
            RuntimeEvents.Log.ProcessorHandoff(p.Id, work);
            if (!work || p.Retiring || _stopping)
            {
                IdleOrRetirePLocked(p);
                return;
            }
        }
        StartM(p, spinning: false);
    }

    /// <summary>The body of every worker thread.</summary>
    public void WorkerLoop(Machine m)
    {
        while (!_stopping)
        {
            if (m.P is null)
            {
                if (m.NextP is not null)
                {
                    TakeP(m, m.NextP);
                }
                else
                {
                    lock (_lock)
                    {
                        if (m.NextP is null && !_idleMs.Contains(m))
                            _idleMs.Add(m);
                    }
                    if (m.NextP is null)
                    {
                        if (SwitchTrace.Active)
                            sp_trace_mark(SP_TRACE_MARK_IDLE, 0, 0);
                        m.Park(-1);
                    }
                    continue;
                }
            }
            Goroutine? g = FindRunnable(m);
            if (g is null)
                continue;
            if (m.Spinning)
            {
                m.Spinning = false;
                if (Interlocked.Decrement(ref _nmspinning) == 0)
                    Wakep(); // keep one worker looking while there may be more work
            }
            Execute(m, g);
        }
    }

    // ---------------------------------------------------------------- finding work

    /// <summary>Runs from's due timers (another P's when this one is idle); goroutines they
    /// ready go to into, this worker's P.</summary>
    private static void RunTimers(Processor from, Processor into)
    {
        long deadline = Volatile.Read(ref *from.TimerDeadline);
        if (deadline == long.MaxValue || deadline > sp_clock_now())
            return; // no timer due: one load, and a clock read only with a timer
        var woken = new sp_wakes();
        sp_host_run_timers(from.RunQ.Native, into.RunQ.Native, &woken);
        Engine.Finish(woken);
    }

    /// <summary>Managed parties completed by native goroutines that ran without a
    /// processor (a blocking section): resolved by whichever worker looks first.</summary>
    internal void ResolveStrayWakes()
    {
        sp_party* wakes = sp_sched_take_wakes(_goroutines.Sched);
        if (wakes != null)
            NativeParty.Resolve(wakes);
    }

    private Goroutine? FindRunnable(Machine m)
    {
        while (true)
        {
            Processor? p = m.P;
            if (_stopping || p is null)
                return null;
            if (p.Retiring)
            {
                DropSpinning(m); // or wakep would wait forever for this worker
                lock (_lock)
                    ReleasePLocked(m);
                return null;
            }
            RunTimers(p, p);
            Goroutine? g;
            // Now and then the global queue first, or goroutines that keep a local
            // queue busy would starve it (Go checks every 61st schedule; the native
            // run loop's switches count as schedules too).
            if (++p.SchedTick >= GlobalQueueTurn)
            {
                p.SchedTick = 0;
                if (_globalQ.Count > 0)
                {
                    lock (_lock)
                        g = _globalQ.Pop();
                    if (g is not null)
                        return g;
                }
            }
            g = p.RunQ.Get();
            if (g is not null)
                return g;
            if (_globalQ.Count > 0)
            {
                lock (_lock)
                    g = GlobalGetBatch(p);
                if (g is not null)
                    return g;
            }

            // Steal, as at most half as many spinning workers as busy Ps.
            int maxProcs = _maxProcs;
            if (!m.Spinning && 2 * Volatile.Read(ref _nmspinning) < maxProcs - _idlePCount)
            {
                m.Spinning = true;
                Interlocked.Increment(ref _nmspinning);
                if (SwitchTrace.Active)
                    sp_trace_mark(SP_TRACE_MARK_SPIN, 0, 0);
            }
            if (m.Spinning)
            {
                Processor[] all = _allPs;
                // As Go's stealWork: four passes, and only the last takes a runnext
                // goroutine, after a pause of about 3 us (Go's usleep(3)): its owner is
                // about to run it, or to queue it behind the next one it readies, where
                // it is stolen in a batch. Taking one as soon as it lands moves a spawning
                // P's goroutines to another core one at a time, runnext's line with each.
                bool paused = false;
                for (int pass = 0; pass < StealPasses; pass++)
                {
                    bool last = pass == StealPasses - 1;
                    int start = Random.Shared.Next(maxProcs);
                    for (int i = 0; i < maxProcs; i++)
                    {
                        Processor victim = all[(start + i) % maxProcs];
                        if (victim == p)
                            continue;
                        if (pass == 0)
                            RunTimers(victim, p);
                        if (last && !paused && !victim.RunQ.IsEmpty)
                        {
                            Thread.SpinWait(RunNextPauseSpins); // only when there is a runnext to wait for
                            paused = true;
                        }
                        g = p.RunQ.Get() ?? p.RunQ.StealHalf(victim.RunQ, takeNext: last);
                        if (g is not null)
                            return g;
                    }
                }
            }

            // Nothing to do: give the P back and park (what a goroutine without a P
            // completed first: the monitor would see to it within a millisecond).
            ResolveStrayWakes();
            lock (_lock)
            {
                if (_globalQ.Count > 0)
                    return GlobalGetBatch(p);
                ReleasePLocked(m);
            }
            if (DropSpinning(m))
            {
                // Work that arrived while we spun woke nobody: look once more.
                if (AnyQueuedWork())
                {
                    lock (_lock)
                    {
                        Processor? again = PopIdlePLocked();
                        if (again is not null)
                        {
                            TakeP(m, again);
                            continue;
                        }
                    }
                }
            }
            ParkWorker(m);
            if (m.P is null)
                return null;
        }
    }

    /// <summary>Ends a worker's spinning; true if it was spinning.</summary>
    private bool DropSpinning(Machine m)
    {
        if (!m.Spinning)
            return false;
        m.Spinning = false;
        Interlocked.Decrement(ref _nmspinning);
        return true;
    }

    /// <summary>Any goroutine queued anywhere. The global queue counts too: a thread
    /// outside (a channel send, a timer) may have queued one after this worker's last
    /// look, and its wakep gave up because this worker was still spinning.</summary>
    private bool AnyQueuedWork()
    {
        lock (_lock)
            if (_globalQ.Count > 0)
                return true;
        foreach (Processor p in _allPs) // retiring Ps too: their work is not yet moved
            if (!p.RunQ.IsEmpty)
                return true;
        return false;
    }

    /// <summary>A processor is idle while goroutines wait in some queue.</summary>
    internal bool QueuedWorkWhileIdle()
    {
        if (_idlePCount == 0)
            return false;
        if (_globalQ.Count > 0)
            return true;
        Processor[] all = _allPs;
        int n = _maxProcs;
        for (int i = 0; i < n && i < all.Length; i++)
            if (!all[i].RunQ.IsEmpty)
                return true;
        return false;
    }

    /// <summary>The earliest timer of every processor, in sp_clock_now nanoseconds.</summary>
    public long NextTimerDeadline()
    {
        long next = long.MaxValue;
        Processor[] all = _allPs;
        int n = _maxProcs;
        for (int i = 0; i < n; i++)
            next = Math.Min(next, Volatile.Read(ref *all[i].TimerDeadline));
        return next;
    }

    /// <summary>A timer channel was made: an idle worker parked until an older deadline
    /// looks again.</summary>
    internal void TimerAdded() => Wakep();

    /// <summary>The first processor's run queue, whose timer heap takes the timers of
    /// threads that hold no processor.</summary>
    internal sp_runq* FirstRunQueue => _allPs[0].RunQ.Native;

    /// <summary>Parks a worker that holds no P until it is handed one, or the next timer
    /// is due (then it tries to take an idle P to run it).</summary>
    private void ParkWorker(Machine m)
    {
        Debug.Assert(!m.Spinning);
        long deadline = NextTimerDeadline();
        lock (_lock)
        {
            if (_stopping || m.NextP is not null)
            {
                if (m.NextP is not null)
                    TakeP(m, m.NextP);
                return;
            }
            if (deadline == long.MaxValue)
                CheckDeadLocked();
            _idleMs.Add(m);
        }
        int timeout = -1;
        if (deadline != long.MaxValue)
        {
            double ms = (deadline - sp_clock_now()) / 1e6;
            timeout = (int)Math.Clamp(Math.Ceiling(ms), 0, int.MaxValue);
        }
        if (SwitchTrace.Active)
            sp_trace_mark(SP_TRACE_MARK_IDLE, 0, 0);
        bool woken = m.Park(timeout);
        lock (_lock)
        {
            if (!woken)
            {
                if (_idleMs.Remove(m))
                {
                    // Timed out: a timer is due; run it if a P is free.
                    Processor? p = PopIdlePLocked();
                    if (p is not null)
                        TakeP(m, p);
                    return;
                }
                // Someone took us off the list and is about to wake us: take that wake-up.
            }
        }
        if (!woken)
            m.Park(-1);
        if (m.NextP is not null)
            TakeP(m, m.NextP);
    }

    /// <summary>Go's checkdead: every P idle, nothing runnable, no timer, no goroutine
    /// running without a P or waiting on something outside Spindle, yet goroutines are
    /// alive: none of them can ever be woken (under _lock).</summary>
    private void CheckDeadLocked()
    {
        if (_stopping || _finished.IsSet)
            return;
        if (_idlePCount != _maxProcs || _globalQ.Count != 0 || Volatile.Read(ref OwnedPs) != 0)
            return; // a worker holds a P (a retiring one, perhaps): it is still running
        if (Volatile.Read(ref RunningWithoutP) != 0 || Volatile.Read(ref ExternalWaits) != 0 ||
            sp_sched_outside_waits(_goroutines.Sched) != 0 || sp_sched_timers(_goroutines.Sched) != 0 ||
            LiveGoroutines == 0)
            return;
        if (AnyQueuedWork())
            return;
        var dump = Dump();
        RuntimeEvents.Log.Deadlock(dump.Count);
        _failure ??= new DeadlockException(dump);
        _finished.Set();
    }

    // ---------------------------------------------------------------- running goroutines

    private void Execute(Machine m, Goroutine g)
    {
        m.Current = g;
        m.P!.Runs++;
        try
        {
            if (g.Kind == GoroutineKind.Native)
                ExecuteNative(m, g);
            else
                ExecuteManaged(m, g);
        }
        finally
        {
            m.Current = null;
        }
    }

    /// <summary>Schedules between two looks at the global queue first (Go's 61).</summary>
    private const int GlobalQueueTurn = 61;
    private const int StealPasses = 4; // Go's stealTries
    // About 3 us: .NET scales SpinWait's iterations to a similar length on every
    // processor (28 ns each measured here).
    private const int RunNextPauseSpins = 100;

    /// <summary>Switches the native run loop may make by itself before it comes back (it
    /// runs its processor's timers and takes its share of the global queue itself), so that
    /// a retiring P and other processors' timers are seen here often enough.</summary>
    private const int NativeSwitchBudget = 1024;

    private void ExecuteNative(Machine m, Goroutine g)
    {
        while (true)
        {
            int rc;
            if (g.RequestPending)
            {
                g.RequestPending = false;
                rc = SP_CORO_REQUEST;
            }
            else
            {
                Processor p = m.P!;
                bool blocking = g.InBlockingSection;
                long nowMs = CoarseClock.NowMs;
                g.SetState(blocking ? GoroutineState.Blocking : GoroutineState.Running, WaitReason.None, nowMs);
                long entered = p.EnterResume(blocking ? Processor.InBlocking : Processor.InGoroutine, nowMs);
                // The native run loop switches by itself among goroutines that yield,
                // park, spawn and finish, and comes back with the first that wants more.
                sp_run_result run;
                bool traced = SwitchTrace.Active;
                if (traced)
                    sp_trace_mark(SP_TRACE_MARK_HOST_OUT, 0, 0);
                int err = sp_runq_run(p.RunQ.Native, g.Native, entered, NativeSwitchBudget, &run);
                if (traced)
                    sp_trace_mark(SP_TRACE_MARK_HOST_IN, 0, 0);
                if (err != SP_OK) // no coroutine: reported below
                    run = new sp_run_result { g = g.Native, status = err, lost = p.LeaveResume(entered) ? 0 : 1 };
                if (_stopping && run.lost != 0)
                    return; // left behind by Stop: touch nothing
                if (run.wakes != null)
                    NativeParty.Resolve(run.wakes);
                if (run.switches != 0)
                {
                    p.SchedTick += (uint)run.switches;
                    // Goroutines readied or spawned in native code woke no idle worker
                    // (Go's ready and newproc call wakep each time): one look per run
                    // of the loop.
                    if (_idlePCount != 0 && (!p.RunQ.IsEmpty || _globalQ.Count > 0))
                        Wakep();
                }
                if (run.status is SP_RUN_REQUEUED or SP_RUN_PARKED or SP_RUN_EXITED)
                {
                    // g yielded into the queue, parked or finished; the next one is the
                    // worker's to find.
                    if (run.lost != 0)
                        LostPAfterRequeue(m);
                    return;
                }
                if (run.g != g.Native)
                {
                    g = _goroutines[run.g];
                    m.Current = g;
                }
                rc = run.status;
                bool lost = run.lost != 0;
                if (lost)
                {
                    // The monitor handed our P to another worker while g ran.
                    m.P = null;
                    if (!ReacquireP(m, g, rc))
                        return;
                }
            }
            switch (rc)
            {
                case SP_CORO_DONE:
                    ExitNative(m, g);
                    return;
                case SP_CORO_SUSPENDED: // a bare sp_coro_yield: same as sp_gosched
                    Requeue(m, g);
                    return;
                case SP_CORO_REQUEST:
                    if (!Serve(m, g, sp_coro_pending(g.Coro)))
                        return;
                    if (_stopping)
                        return; // g goes no further: Stop discards it once this worker ends
                    continue;
                default:
                    Fail(new InvalidOperationException(
                        $"spindle: resuming goroutine {g.Id} failed: {SpindleError.Describe(rc)}"));
                    return;
            }
        }
    }

    /// <summary>After losing its P in a resume, a worker needs one before it may touch the
    /// scheduler again (Go's exitsyscall). Without one, g goes to the global queue, its
    /// request (if any) left for the worker that runs it next. The worker counts in
    /// RunningWithoutP (the monitor counted it, under the lock, when it took the P) until
    /// g is accounted for again, runnable or finished: deadlock detection must never see
    /// a moment where g is neither running, queued nor gone.</summary>
    private bool ReacquireP(Machine m, Goroutine g, int rc)
    {
        if (_stopping)
            return false; // left behind by Stop: touch nothing
        sp_request* req = rc == SP_CORO_REQUEST ? sp_coro_pending(g.Coro) : null;
        if (req != null && req->op == SP_OP_PARK)
        {
            // g parked outside its run loop (a blocking section) and still holds what it
            // parked under, a channel's lock say, until the park is committed: commit it
            // now, without a P. Queued for a P with the lock held, it would leave every
            // goroutine that touches that channel spinning on the lock, on the very
            // processors g waits for.
            sp_host_commit_park(g.Native, req);
            lock (_lock)
            {
                Interlocked.Decrement(ref RunningWithoutP); // g waits where it parked
                CheckDeadLocked();
            }
            return false;
        }
        lock (_lock)
        {
            Processor? p = PopIdlePLocked();
            if (p is not null)
            {
                TakeP(m, p);
                Interlocked.Decrement(ref RunningWithoutP);
                return true;
            }
            if (rc != SP_CORO_DONE)
            {
                g.RequestPending = rc == SP_CORO_REQUEST;
                g.SetState(GoroutineState.Runnable);
                _globalQ.Push(g);
                Interlocked.Decrement(ref RunningWithoutP);
                return false;
            }
        }
        ExitNative(m, g); // frees g to the global list, as m holds no P
        lock (_lock)
        {
            Interlocked.Decrement(ref RunningWithoutP);
            // The last goroutine that could wake the others may have just ended, and
            // every other worker may already be parked: look, as a parking worker would.
            CheckDeadLocked();
        }
        return false;
    }

    /// <summary>The monitor took the P just as the run loop queued or parked the
    /// goroutine it ran: that goroutine is accounted for (queued, or waiting in a
    /// channel), so the worker only stops counting itself as running without a P.</summary>
    private void LostPAfterRequeue(Machine m)
    {
        m.P = null;
        lock (_lock)
        {
            Interlocked.Decrement(ref RunningWithoutP);
            CheckDeadLocked();
        }
    }

    /// <summary>The monitor takes p from a worker stuck in one resume (observed: the
    /// status it saw). Under the lock, so that deadlock detection sees the worker
    /// counted as running without a P from the moment it lost it. The native run loop
    /// may be between two goroutines, working on p's queue without a locked check of the
    /// status word: after a process-wide barrier it either sees the change or has raised
    /// its busy flag, and the P is handed on only once the flag is down (run_loop.c).</summary>
    internal bool TryRetake(Processor p, long observed)
    {
        lock (_lock)
        {
            if (!p.TryRetake(observed))
                return false;
            Interlocked.MemoryBarrierProcessWide();
            var spin = new SpinWait();
            while (sp_runq_busy(p.RunQ.Native) != 0)
                spin.SpinOnce(sleep1Threshold: -1);
            Interlocked.Decrement(ref OwnedPs);
            Interlocked.Increment(ref RunningWithoutP);
            return true;
        }
    }

    private void ExitNative(Machine m, Goroutine g)
    {
        TraceExited(g);
        if (g.Coro is not null) // null for one that never started (no memory for its stack)
            sp_coro_destroy(g.Coro);
        bool main = g.IsMain;
        FreeG(m, g);
        if (main)
            _finished.Set();
    }

    // ---------------------------------------------------------------- managed goroutines

    private void ExecuteManaged(Machine m, Goroutine g)
    {
        g.SetState(GoroutineState.Running);
        if (SwitchTrace.Active)
            sp_trace_mark(SP_TRACE_MARK_RUN_MANAGED, g.Id, 0);
        // A worker runs with no SynchronizationContext between steps.
        SynchronizationContext.SetSynchronizationContext(g);
        try
        {
            if (g.Task is null)
            {
                try
                {
                    g.Task = g.Body!() ?? Task.CompletedTask;
                }
                catch (Exception e)
                {
                    g.Task = Task.FromException(e);
                }
            }
            else
            {
                g.LockSteps();
                (Delegate callback, object? state) = g.TakeStep();
                g.UnlockSteps();
                if (callback is Action<object?> completion)
                    completion(state);
                else
                    ((SendOrPostCallback)callback)(state);
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(null);
        }

        g.LockSteps();
        WaitReason reason = g.ParkReason != WaitReason.None ? g.ParkReason : WaitReason.External;
        bool outside = reason == WaitReason.External || g.ParkOutside;
        ulong parkedOn = g.ParkObject; // this step's, like its reason: an outside await names none
        g.ParkReason = WaitReason.None;
        g.ParkOutside = false;
        g.ParkObject = 0;
        if (g.PendingSteps > 0)
        {
            g.UnlockSteps();
            TraceStepEnded(g, SP_TRACE_YIELD);
            Requeue(m, g);
            return;
        }
        if (!g.Task.IsCompleted)
        {
            if (outside)
            {
                g.CountedOutside = true;
                Interlocked.Increment(ref ExternalWaits);
            }
            // Once unlocked, g may be woken, run elsewhere, end and be reused: what the
            // watch needs is read now.
            BodyWatch? watch = null;
            if (reason == WaitReason.External && !g.TaskWatched)
            {
                g.TaskWatched = true;
                watch = new BodyWatch(g, g.Id, g.Task);
            }
            g.SetState(GoroutineState.Waiting, reason);
            long id = g.Id;
            g.UnlockSteps();
            TraceBlocked(id, reason, parkedOn);
            if (watch is not null)
                WatchBodyEnd(watch); // after the unlock: the watch may run at once, here
            return;
        }
        g.UnlockSteps();
        TraceStepEnded(g, SP_TRACE_EXITED);
        ExitManaged(m, g);
    }

    /// <summary>Queues a continuation for a managed goroutine, from any thread, and makes
    /// the goroutine runnable if it was parked.</summary>
    /// <summary>A body that awaited something that is not Spindle's may go on and end on
    /// another thread (after ConfigureAwait(false)), where no step tells the scheduler: its
    /// Task's completion then gives the goroutine an empty step, which finds it ended. Once
    /// per goroutine, and only for such waits (their awaits allocate anyway).</summary>
    private static void WatchBodyEnd(BodyWatch watch) =>
        watch.Task.ContinueWith(s_bodyEnded, watch, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private sealed record BodyWatch(Goroutine G, long Id, Task Task);

    private static readonly Action<object?> s_emptyStep = static _ => { };

    private static readonly Action<Task, object?> s_bodyEnded = static (_, state) =>
    {
        var w = (BodyWatch)state!;
        w.G.Scheduler.PostStep(w.G, s_emptyStep, null, w);
    };

    internal void PostStep(Goroutine g, Delegate callback, object? state) => PostStep(g, callback, state, null);

    /// <summary>Queues a step for g; with a watch, only if g is still the goroutine the
    /// watch was made for and has not ended (its record is reused once it ends).</summary>
    private void PostStep(Goroutine g, Delegate callback, object? state, BodyWatch? watch)
    {
        bool wake = false, counted = false;
        g.LockSteps();
        if (watch is not null && !(g.Id == watch.Id && ReferenceEquals(g.Task, watch.Task)))
        {
            g.UnlockSteps();
            return;
        }
        g.AddStep(callback, state);
        if (g.State == GoroutineState.Waiting)
        {
            g.SetState(GoroutineState.Runnable);
            wake = true;
            counted = g.CountedOutside;
            g.CountedOutside = false;
        }
        g.UnlockSteps();
        if (wake)
        {
            TraceUnblocked(g);
            Ready(g, next: true);
            if (counted) // after Ready: never a moment where it looks neither runnable nor waited on
                Interlocked.Decrement(ref ExternalWaits);
        }
    }

    private void ExitManaged(Machine m, Goroutine g)
    {
        TraceExited(g);
        Task task = g.Task!;
        bool main = g.IsMain;
        FreeG(m, g);
        if (task.IsFaulted || task.IsCanceled)
        {
            Exception e = task.Exception?.InnerExceptions.Count == 1
                ? task.Exception.InnerException!
                : (Exception?)task.Exception ?? new TaskCanceledException(task);
            // As in Go, a goroutine that fails ends the program.
            Fail(main ? e : new GoroutineFailedException(g.Id, e));
            return;
        }
        if (main)
            _finished.Set();
    }

    // ---------------------------------------------------------------- GOMAXPROCS

    private void SetMaxProcsLocked(int n)
    {
        if (_allPs.Length < n)
        {
            var grown = new Processor[n];
            Array.Copy(_allPs, grown, _allPs.Length);
            for (int i = _allPs.Length; i < n; i++)
                grown[i] = new Processor(i, _goroutines);
            _allPs = grown;
        }
        int old = _maxProcs;
        if (n > old)
        {
            for (int i = old; i < n; i++)
            {
                Processor p = _allPs[i];
                p.Retiring = false;
                if (Processor.StateOf(Volatile.Read(ref p.Status)) is Processor.Retired or Processor.Idle)
                    PushIdlePLocked(p);
            }
        }
        else
        {
            // A goroutine that shrinks GOMAXPROCS keeps running on its P: retire
            // another one in its place (Go stops the world instead).
            Processor? mine = Machine.CurrentMachine?.P;
            int at = mine is null ? -1 : Array.IndexOf(_allPs, mine);
            if (at >= n)
                (_allPs[at], _allPs[n - 1]) = (_allPs[n - 1], _allPs[at]);
            for (int i = n; i < old; i++)
            {
                Processor p = _allPs[i];
                p.Retiring = true;
                if (_idlePs.Remove(p))
                {
                    _idlePCount = _idlePs.Count;
                    RetirePLocked(p);
                }
            }
        }
        _maxProcs = n;
    }

    /// <summary>Changes GOMAXPROCS; returns the previous value. Shrinking waits until the
    /// Ps above the new count have stopped (at most about one monitor threshold), unless
    /// the caller runs on one of them.</summary>
    public int SetMaxProcs(int n)
    {
        int old;
        lock (_lock)
        {
            old = _maxProcs;
            if (n == old)
                return old;
            SetMaxProcsLocked(n);
        }
        if (n > old)
        {
            for (int i = old; i < n; i++)
                Wakep();
            return old;
        }
        for (int i = n; i < old; i++)
        {
            Processor p = _allPs[i];
            while (Processor.StateOf(Volatile.Read(ref p.Status)) != Processor.Retired && !_stopping && p.Retiring)
                Thread.Sleep(1);
        }
        Volatile.Write(ref PeakOwnedPs, Volatile.Read(ref OwnedPs));
        return old;
    }

    /// <summary>Switches the native run loops have made by themselves, over every P.</summary>
    public long NativeSwitches()
    {
        long sum = 0;
        foreach (Processor p in _allPs)
            sum += (long)sp_runq_switches(p.RunQ.Native);
        return sum;
    }

    /// <summary>Runtime calls of native goroutines served here, over every P (each P's
    /// count read without its owner's lock: a figure for stats, not a fence).</summary>
    public long RuntimeCalls()
    {
        long sum = 0;
        foreach (Processor p in _allPs)
            sum += Volatile.Read(ref p.RuntimeCalls);
        return sum;
    }

    /// <summary>Every P, retiring ones included (the monitor watches them all).</summary>
    internal Processor[] AllProcessors => _allPs;

    // ---------------------------------------------------------------- dumps

    public List<GoroutineInfo> Dump()
    {
        long now = CoarseClock.Tick();
        var list = new List<GoroutineInfo>();
        _goroutines.ForEach(g =>
        {
            if (g.State != GoroutineState.Dead)
                list.Add(g.Describe(now));
        });
        list.Sort((a, b) => a.Id.CompareTo(b.Id));
        return list;
    }
}
