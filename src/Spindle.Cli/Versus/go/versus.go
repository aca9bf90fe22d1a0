// The Go peer of `spindle versus`: the programs of native/demos/versus.c, written in
// Go, measured the way src/Spindle.Cli/Versus measures the others. The spindle tool
// carries this file, writes it to a temporary folder and builds it with the go on
// PATH. It prints one JSON object of figures (nanoseconds unless named otherwise).
//
//	versus -target-ms 25 -runs 3 -procs 2 -samples 20000 -cpu-jobs 16 -cpu-rounds R ...
//	versus -park N    resident bytes per goroutine parked in a receive (a fresh process each)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	targetMs   = flag.Int("target-ms", 25, "the least a timed run lasts, in ms")
	runs       = flag.Int("runs", 3, "timed runs at that size; the best counts")
	procs      = flag.Int("procs", 2, "GOMAXPROCS of the rows that run at more than one processor")
	samples    = flag.Int("samples", 20000, "messages of the latency measurement")
	workers    = flag.Int("fanout-workers", 4, "workers of the fan-out")
	capacity   = flag.Int("fanout-capacity", 64, "slots of the fan-out's channel")
	cpuJobs    = flag.Int("cpu-jobs", 16, "CPU-bound jobs")
	cpuRounds  = flag.Int64("cpu-rounds", 1000000, "mixing rounds per job")
	cpuChunks  = flag.Int64("cpu-chunks", 16, "yields per job")
	digits     = flag.Int("digits", 2000, "digits each writer of the interleaving writes")
	workNs     = flag.Int64("work-ns", 1000, "ns of work per digit")
	block      = flag.Int("block", 40, "digits between yields")
	maxParks   = flag.Int("max-parks", 10000, "sleeps the identity measurement tries")
	sleepNs    = flag.Int64("sleep-ns", 100000, "ns of each of its sleeps")
	parkN      = flag.Int("park", 0, "only measure N parked goroutines")
	expectedHi = flag.Uint64("cpu-expected", 0, "the xor the CPU jobs must give")
)

// nsPerOp grows n until run(n) lasts the target, then returns the best of the runs per op.
func nsPerOp(start int64, run func(n int64) time.Duration) float64 {
	target := time.Duration(*targetMs) * time.Millisecond
	n := start
	d := run(n)
	for d < target && n < 1<<26 {
		grow := 100.0
		if d > 0 {
			grow = float64(target) * 1.2 / float64(d)
		}
		if grow < 2 {
			grow = 2
		}
		if grow > 100 {
			grow = 100
		}
		n = int64(float64(n) * grow)
		d = run(n)
	}
	best := float64(d.Nanoseconds()) / float64(n)
	for i := 1; i < *runs; i++ {
		if ns := float64(run(n).Nanoseconds()) / float64(n); ns < best {
			best = ns
		}
	}
	return best
}

func yieldPair(n int64) time.Duration {
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	for g := 0; g < 2; g++ {
		go func() {
			for i := int64(0); i < n; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return time.Since(start) / 2
}

func pingPong(n int64) time.Duration {
	ping, pong := make(chan int64), make(chan int64)
	go func() {
		for i := int64(0); i < n; i++ {
			pong <- (<-ping) + 1
		}
	}()
	start := time.Now()
	var v int64
	for i := int64(0); i < n; i++ {
		ping <- v
		v = <-pong
	}
	d := time.Since(start)
	if v != n {
		panic("the ping-pong's counter is wrong")
	}
	return d
}

func spawn(n int64) time.Duration {
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(int(n))
	for i := int64(0); i < n; i++ {
		go wg.Done()
	}
	wg.Wait()
	return time.Since(start)
}

func fanout(n int64) time.Duration {
	items, sums := make(chan int64, *capacity), make(chan int64, *workers)
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(*workers)
	for w := 0; w < *workers; w++ {
		go func() {
			var sum int64
			for v := range items {
				sum += v
			}
			sums <- sum
			wg.Done()
		}()
	}
	for v := int64(1); v <= n; v++ {
		items <- v
	}
	close(items)
	wg.Wait()
	var total int64
	for w := 0; w < *workers; w++ {
		total += <-sums
	}
	d := time.Since(start)
	if total != n*(n+1)/2 {
		panic("the fan-out's sum is wrong")
	}
	return d
}

func latency(n int) (float64, float64) {
	taken := make([]int64, n)
	toPartner, toMain := make(chan time.Time), make(chan time.Time)
	done := make(chan struct{})
	go func() {
		for i := 0; i < n; i += 2 {
			t := <-toPartner
			taken[i] = int64(time.Since(t))
			if i+1 >= n {
				break
			}
			toMain <- time.Now()
		}
		close(done)
	}()
	time.Sleep(time.Millisecond)
	for i := 0; i < n; i += 2 {
		toPartner <- time.Now()
		if i+1 >= n {
			break
		}
		t := <-toMain
		taken[i+1] = int64(time.Since(t))
	}
	<-done
	kept := taken[n/100:]
	sort.Slice(kept, func(i, j int) bool { return kept[i] < kept[j] })
	p99 := int(float64(len(kept)) * 0.99)
	if p99 >= len(kept) {
		p99 = len(kept) - 1
	}
	return float64(kept[len(kept)/2]), float64(kept[p99])
}

func mix(x uint64, rounds int64) uint64 {
	for i := int64(0); i < rounds; i++ {
		x ^= x >> 12
		x ^= x << 25
		x ^= x >> 27
		x *= 0x2545F4914F6CDD1D
	}
	return x
}

func cpu(p int) float64 {
	runtime.GOMAXPROCS(p)
	chunk := *cpuRounds / *cpuChunks
	if chunk < 1 {
		chunk = 1
	}
	var result atomic.Uint64
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(*cpuJobs)
	for j := 1; j <= *cpuJobs; j++ {
		go func(x uint64) {
			for done := int64(0); done < *cpuRounds; done += chunk {
				left := *cpuRounds - done
				if left > chunk {
					left = chunk
				}
				x = mix(x, left)
				runtime.Gosched()
			}
			for {
				old := result.Load()
				if result.CompareAndSwap(old, old^x) {
					break
				}
			}
			wg.Done()
		}(uint64(j))
	}
	wg.Wait()
	d := time.Since(start)
	if *expectedHi != 0 && result.Load() != *expectedHi {
		panic("the CPU jobs' result is wrong")
	}
	return float64(d.Nanoseconds())
}

func interleave(p int) string {
	runtime.GOMAXPROCS(p)
	line := make([]byte, 2**digits)
	var length atomic.Int64
	var wg sync.WaitGroup
	wg.Add(2)
	for _, digit := range []byte("01") {
		go func(digit byte) {
			for i := 1; i <= *digits; i++ {
				end := time.Now().Add(time.Duration(*workNs))
				for time.Now().Before(end) {
				}
				line[length.Add(1)-1] = digit
				if i%*block == 0 {
					runtime.Gosched()
				}
			}
			wg.Done()
		}(digit)
	}
	wg.Wait()
	return string(line)
}

// identity: a goroutine sleeps until it wakes on another OS thread; the sleeps it took.
func identity() (int, int, int) {
	result := make(chan [3]int)
	go func() {
		first := syscall.Gettid()
		now, parks := first, 0
		for parks < *maxParks && now == first {
			time.Sleep(time.Duration(*sleepNs))
			parks++
			now = syscall.Gettid()
		}
		result <- [3]int{parks, first, now}
	}()
	r := <-result
	return r[0], r[1], r[2]
}

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
	flag.Parse()
	out := map[string]interface{}{"version": runtime.Version()}
	if *parkN > 0 {
		runtime.GOMAXPROCS(2)
		out["parkBytes"] = park(*parkN)
	} else {
		runtime.GOMAXPROCS(1)
		out["yield"] = nsPerOp(1000, yieldPair)
		out["pingPong"] = nsPerOp(1000, pingPong)
		runtime.GOMAXPROCS(*procs)
		out["spawn"] = nsPerOp(1000, spawn)
		out["fanout"] = nsPerOp(1000, fanout)
		out["latencyMedian"], out["latencyP99"] = latency(*samples)
		best := func(p int) float64 {
			b := cpu(p)
			for i := 1; i < *runs; i++ {
				if d := cpu(p); d < b {
					b = d
				}
			}
			return b
		}
		out["cpu1"] = best(1)
		out["cpuN"] = best(*procs)
		out["interleave1"] = interleave(1)
		out["interleaveN"] = interleave(*procs)
		runtime.GOMAXPROCS(*procs)
		out["identityParks"], out["identityFirst"], out["identityLast"] = identity()
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
