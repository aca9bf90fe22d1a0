namespace Spindle.Cli.Versus;

/// <summary>Who is measured: the two kinds of goroutine and their peers.</summary>
internal enum Peer
{
    Native,
    Managed,
    Threads,
    Tasks,
    Go,
}

/// <summary>Which way a figure is better, for ratios and charts.</summary>
internal enum Better
{
    Lower,
    Higher,
    Neither,
}

/// <summary>One figure a row measures for every peer.</summary>
/// <param name="Key">Its name in JSON.</param>
/// <param name="Label">What it is, for people.</param>
/// <param name="Unit">ns, ms, bytes, x, digits, parks.</param>
/// <param name="Better">Which way is better.</param>
internal sealed record Metric(string Key, string Label, string Unit, Better Better);

/// <summary>What one peer gave in one row: a value for each metric, or why there is none
/// (never a zero or a gap), and notes on how it ran (a cap, a pinned CPU).</summary>
internal sealed class Cell
{
    public Dictionary<string, double> Values { get; } = [];
    public Dictionary<string, string> Missing { get; } = [];
    /// <summary>Notes, each on one of the cell's figures (by metric) or on the whole cell (null).</summary>
    public List<(string? Metric, string Text)> Notes { get; } = [];
    /// <summary>Text a row shows as it was produced (the interleaving's digits), by metric.</summary>
    public Dictionary<string, string> Excerpts { get; } = [];

    /// <summary>Sets a figure, or records why there is none when it is not a positive,
    /// finite number (a measurement that went wrong is never reported as a figure).</summary>
    public void Set(string metric, double value, string unitForMessage = "")
    {
        if (double.IsFinite(value) && value > 0)
        {
            Values[metric] = value;
            Missing.Remove(metric);
        }
        else
        {
            Values.Remove(metric);
            Missing[metric] = $"the measurement gave {value}{unitForMessage}, not a positive figure";
        }
    }

    public void Note(string text, string? metric = null) => Notes.Add((metric, text));

    public void Skip(string metric, string why)
    {
        Values.Remove(metric);
        Missing[metric] = why;
    }

    public double? Get(string metric) => Values.TryGetValue(metric, out double v) ? v : null;
}

/// <summary>A ratio between a goroutine's figure and a peer's: how many times better the
/// goroutine does (above 1, better; below, worse).</summary>
internal sealed record Ratio(string Metric, Peer Subject, Peer Against, double Factor);

/// <summary>A target of issue 18 (a ratio the goroutines should reach), met or missed, or
/// not judged with the reason.</summary>
internal sealed record Target(string Text, string Metric, Peer Subject, Peer? Against, double Required,
    double? Factor, bool? Met, string? Why);

/// <summary>Something a demonstration claims, and whether it held when it ran.</summary>
internal sealed record Claim(string Text, bool Held);

/// <summary>One of the article's differences, measured.</summary>
internal sealed class Row
{
    public required string Id { get; init; }
    /// <summary>The article's difference, as it names it.</summary>
    public required string Difference { get; init; }
    /// <summary>What this row measures, in one line.</summary>
    public required string Title { get; init; }
    /// <summary>How: the program every peer runs.</summary>
    public required string How { get; init; }
    public required Metric[] Metrics { get; init; }
    public Dictionary<Peer, Cell> Cells { get; } = Enum.GetValues<Peer>().ToDictionary(p => p, _ => new Cell());
    public List<Ratio> Ratios { get; } = [];
    public List<Target> Targets { get; } = [];
    public List<Claim> Claims { get; } = [];
    /// <summary>What the figures show that a number does not (observations, caveats).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Marks every metric of peer as not measured, for why.</summary>
    public void SkipPeer(Peer peer, string why)
    {
        foreach (Metric m in Metrics)
            if (!Cells[peer].Values.ContainsKey(m.Key))
                Cells[peer].Skip(m.Key, why);
    }

    /// <summary>Every metric of every peer has a positive figure or a reason.</summary>
    public IEnumerable<string> Gaps() =>
        from p in Enum.GetValues<Peer>()
        from m in Metrics
        where !Cells[p].Values.ContainsKey(m.Key) && !Cells[p].Missing.ContainsKey(m.Key)
        select $"{Id}: {m.Key} of {p} has neither a figure nor a reason";

    /// <summary>Computes the ratios of the goroutines against every peer for the metrics
    /// that have a better direction.</summary>
    public void AddRatios()
    {
        foreach (Metric m in Metrics.Where(m => m.Better != Better.Neither))
            foreach (Peer subject in new[] { Peer.Native, Peer.Managed })
                foreach (Peer against in new[] { Peer.Threads, Peer.Tasks, Peer.Go })
                    if (Factor(m.Key, subject, against) is double f)
                        Ratios.Add(new Ratio(m.Key, subject, against, f));
    }

    /// <summary>How many times better subject does than against on metric, or null.</summary>
    public double? Factor(string metric, Peer subject, Peer against)
    {
        Metric m = Metrics.Single(x => x.Key == metric);
        if (Cells[subject].Get(metric) is not double s || Cells[against].Get(metric) is not double a)
            return null;
        return m.Better == Better.Higher ? s / a : a / s;
    }

    /// <summary>Adds a target: subject at least required times better than against on
    /// metric (against null: subject's own figure at least required; strict: more than).</summary>
    public void AddTarget(string text, string metric, Peer subject, Peer? against, double required, bool strict = false)
    {
        double? factor = against is Peer a ? Factor(metric, subject, a) : Cells[subject].Get(metric);
        string? why = null;
        if (factor is null)
        {
            Peer missing = Cells[subject].Get(metric) is null ? subject : against!.Value;
            why = $"not judged: {Cells[missing].Missing.GetValueOrDefault(metric, "no figure")}";
        }
        Targets.Add(new Target(text, metric, subject, against, required, factor,
            factor is double f ? (strict ? f > required : f >= required) : null, why));
    }
}

/// <summary>Everything one run of `spindle versus` measured.</summary>
internal sealed class Report
{
    public required bool Quick { get; init; }
    public required int MaxProcs { get; init; }
    public required Dictionary<string, string> Machine { get; init; }
    public List<Row> Rows { get; } = [];
    public TimeSpan Took { get; set; }
    /// <summary>Each measurement and the time it took.</summary>
    public List<(string What, TimeSpan Took)> Steps { get; set; } = [];

    public static string PeerId(Peer p) => p switch
    {
        Peer.Native => "native",
        Peer.Managed => "managed",
        Peer.Threads => "threads",
        Peer.Tasks => "tasks",
        _ => "go",
    };

    public static string PeerName(Peer p) => p switch
    {
        Peer.Native => "native goroutines",
        Peer.Managed => "managed goroutines",
        Peer.Threads => "OS threads",
        Peer.Tasks => ".NET Tasks",
        _ => "Go",
    };

    public static string PeerShortName(Peer p) => p switch
    {
        Peer.Native => "native gor.",
        Peer.Managed => "managed gor.",
        Peer.Threads => "OS threads",
        Peer.Tasks => ".NET Tasks",
        _ => "Go",
    };

    public static string PeerDescription(Peer p) => p switch
    {
        Peer.Native => "Spindle goroutines running C (libspindle_demos), on 2 KiB segmented stacks where available",
        Peer.Managed => "Spindle goroutines running C# async lambdas: Runtime.Go(async () => ...)",
        Peer.Threads => "System.Threading.Thread, one OS thread each, blocking with Monitor (lock and condition)",
        Peer.Tasks => ".NET Tasks on the thread pool: Task.Run, async/await, System.Threading.Channels",
        _ => "the same programs in Go (go run of the source this tool carries)",
    };

    /// <summary>Every claim of every row that did not hold.</summary>
    public IEnumerable<string> FailedClaims() =>
        Rows.SelectMany(r => r.Claims.Where(c => !c.Held).Select(c => $"{r.Difference}: {c.Text}"));
}
