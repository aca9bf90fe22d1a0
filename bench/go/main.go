// The Go side of the goroutine benchmarks: the same work as
// native/bench/goroutine_bench.c, timed here, printed one result a line as
// "name gomaxprocs ns_per_op". Run by bench/run.sh.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
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

func pingPong(rounds int) time.Duration {
	ping, pong := make(chan int64), make(chan int64)
	go func() {
		for i := 0; i < rounds; i++ {
			v := <-ping
			pong <- v + 1
		}
	}()
	start := time.Now()
	var v int64
	for i := 0; i < rounds; i++ {
		ping <- v
		v = <-pong
	}
	return time.Since(start)
}

// selectPingPong: pingPong with every send and receive a select over two channels,
// the value's and a quit channel nobody closes (native/programs/channel_workloads.c).
func selectPingPong(rounds int) time.Duration {
	ping, pong, quit := make(chan int64), make(chan int64), make(chan struct{})
	go func() {
		var v int64
		for i := 0; i < rounds; i++ {
			select {
			case v = <-ping:
			case <-quit:
				return
			}
			v++
			select {
			case pong <- v:
			case <-quit:
				return
			}
		}
	}()
	start := time.Now()
	var v int64
	for i := 0; i < rounds; i++ {
		select {
		case ping <- v:
		case <-quit:
		}
		select {
		case v = <-pong:
		case <-quit:
		}
	}
	return time.Since(start)
}

// ring: a token goes laps times around n goroutines; link n returns it to main.
func ring(n, laps int) time.Duration {
	links := make([]chan int64, n+1)
	for i := range links {
		links[i] = make(chan int64)
	}
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		in, out := links[i], links[i+1]
		go func() {
			for lap := 0; lap < laps; lap++ {
				t := <-in
				out <- t + 1
			}
			wg.Done()
		}()
	}
	start := time.Now()
	var token int64
	for lap := 0; lap < laps; lap++ {
		links[0] <- token
		token = <-links[n]
	}
	d := time.Since(start)
	wg.Wait()
	return d
}

// sieve: the concurrent prime sieve of the Go tour, to the count-th prime.
func sieve(count int) time.Duration {
	start := time.Now()
	ch := make(chan int64)
	go func(out chan int64) {
		for i := int64(2); ; i++ {
			out <- i
		}
	}(ch)
	for i := 0; i < count; i++ {
		prime := <-ch
		out := make(chan int64)
		go func(in, out chan int64, prime int64) {
			for {
				if v := <-in; v%prime != 0 {
					out <- v
				}
			}
		}(ch, out, prime)
		ch = out
	}
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

// park mirrors native/programs/park_workload.c: n goroutines park in a receive on
// one channel; returns resident bytes per goroutine once all are parked (run it in a
// fresh process: memory the heap kept from earlier work would hide in the figure).
func park(n int) float64 {
	ch := make(chan int64)
	var started, woken atomic.Int64
	var done sync.WaitGroup
	done.Add(n)
	before := residentBytes()
	for i := 0; i < n; i++ {
		go func() {
			started.Add(1)
			<-ch
			woken.Add(1)
			done.Done()
		}()
	}
	for started.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	parked := residentBytes()
	close(ch)
	done.Wait()
	if woken.Load() != int64(n) {
		panic("a parked goroutine did not wake")
	}
	return float64(parked-before) / float64(n)
}

func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	var total, resident int64
	fmt.Sscan(string(data), &total, &resident)
	return resident * int64(os.Getpagesize())
}

func main() {
	parkN := flag.Int("park", 0, "only measure N parked goroutines (GOMAXPROCS=2)")
	flag.Parse()
	if *parkN > 0 {
		runtime.GOMAXPROCS(2)
		fmt.Printf("go_park_bytes %d %.0f\n", *parkN, park(*parkN))
		return
	}
	const rounds, count = 1000000, 1000000
	runtime.GOMAXPROCS(1)
	fmt.Printf("go_yield_switch 1 %.1f\n", float64(best(5, func() time.Duration { return yieldPair(rounds) }).Nanoseconds())/float64(2*rounds))
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		fmt.Printf("go_spawn_complete %d %.1f\n", procs, float64(best(5, func() time.Duration { return spawn(count) }).Nanoseconds())/float64(count))
	}
	const pingRounds, ringSize, ringLaps, primes = 1000000, 10000, 10, 5000
	runtime.GOMAXPROCS(1)
	fmt.Printf("go_chan_pingpong 1 %.1f\n", float64(best(5, func() time.Duration { return pingPong(pingRounds) }).Nanoseconds())/float64(pingRounds))
	fmt.Printf("go_select_pingpong 1 %.1f\n", float64(best(5, func() time.Duration { return selectPingPong(pingRounds) }).Nanoseconds())/float64(pingRounds))
	fmt.Printf("go_chan_ring 1 %.1f\n", float64(best(5, func() time.Duration { return ring(ringSize, ringLaps) }).Nanoseconds())/float64(ringSize*ringLaps))
	fmt.Printf("go_sieve 1 %.1f\n", float64(best(3, func() time.Duration { return sieve(primes) }).Nanoseconds()))
}
