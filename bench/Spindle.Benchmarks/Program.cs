// Spindle's managed benchmarks; bench/run.sh runs them with the Go peer.
BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Spindle.Benchmarks.GoroutineBenchmarks).Assembly).Run(args);
