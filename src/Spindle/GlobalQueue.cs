namespace Spindle;

/// <summary>The global run queue: an intrusive FIFO under the scheduler's lock.</summary>
internal sealed class GlobalQueue
{
    private Goroutine? _head, _tail;

    public int Count { get; private set; }

    public void Push(Goroutine g)
    {
        g.Link = null;
        if (_tail is null) _head = g; else _tail.Link = g;
        _tail = g;
        Count++;
    }

    public void PushChain(Goroutine? first)
    {
        while (first is not null)
        {
            Goroutine? next = first.Link;
            Push(first);
            first = next;
        }
    }

    public Goroutine? Pop()
    {
        Goroutine? g = _head;
        if (g is null)
            return null;
        _head = g.Link;
        if (_head is null)
            _tail = null;
        g.Link = null;
        Count--;
        return g;
    }
}
