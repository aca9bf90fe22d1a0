// Goroutines, a channel, a wait group and select, through the Spindle package. Prints
// what it computed; the package suite checks it against its own arithmetic.
using Spindle;
using static Spindle.Runtime;

const int Workers = 4, Count = 1000;
long sum = 0;
int selected = 0;
Run(async () =>
{
    var squares = new Chan<long>(capacity: 16);
    var wg = new WaitGroup();
    for (int w = 0; w < Workers; w++)
    {
        int me = w;
        wg.Add(1);
        Go(async () =>
        {
            for (long i = 1 + me; i <= Count; i += Workers)
                await squares.SendAsync(i * i);
            wg.Done();
        });
    }
    Go(async () =>
    {
        await wg.WaitAsync();
        squares.Close();
    });
    await foreach (long square in squares.ReadAllAsync())
        sum += square;

    // select over two channels, each fed by its own goroutine, until both are closed
    var small = new Chan<int>();
    var large = new Chan<int>();
    foreach (var (chan, from) in new[] { (small, 1), (large, 1001) })
        Go(async () =>
        {
            for (int v = from; v < from + 10; v++)
                await chan.SendAsync(v);
            chan.Close();
        });
    bool smallOpen = true, largeOpen = true;
    while (smallOpen || largeOpen)
    {
        var s = new Select();
        int a = s.Receive(smallOpen ? small : null), b = s.Receive(largeOpen ? large : null);
        int chosen = await s.WaitAsync();
        if (!s.Ok(chosen))
        {
            if (chosen == a) smallOpen = false; else largeOpen = false;
            continue;
        }
        selected += s.Value<int>(chosen);
    }
}, maxProcs: 2);

Console.WriteLine($"libspindle {NativeVersion}");
Console.WriteLine($"sum of squares 1..{Count}: {sum}");
Console.WriteLine($"select received: {selected}");
