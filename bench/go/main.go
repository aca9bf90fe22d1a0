// The Go side of the goroutine benchmarks: the same work as
// native/bench/goroutine_bench.c, timed here, printed one result a line as
// "name gomaxprocs ns_per_op". Run by bench/run.sh.
package main

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

func yieldPair(rounds int) time.Duration {
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	for g := 0; g < 2; g++ {
		go func() {
			for i := 0; i < rounds; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return time.Since(start)
}

func spawn(count int) time.Duration {
	var wg sync.WaitGroup
	wg.Add(count)
	start := time.Now()
	for i := 0; i < count; i++ {
		go wg.Done()
	}
	wg.Wait()
	return time.Since(start)
}

// best of several runs, as BenchmarkDotNet reports a median of several
func best(runs int, f func() time.Duration) time.Duration {
	b := f()
	for i := 1; i < runs; i++ {
		if d := f(); d < b {
			b = d
		}
	}
	return b
}

func main() {
	const rounds, count = 1000000, 1000000
	runtime.GOMAXPROCS(1)
	fmt.Printf("go_yield_switch 1 %.1f\n", float64(best(5, func() time.Duration { return yieldPair(rounds) }).Nanoseconds())/float64(2*rounds))
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		fmt.Printf("go_spawn_complete %d %.1f\n", procs, float64(best(5, func() time.Duration { return spawn(count) }).Nanoseconds())/float64(count))
	}
}
