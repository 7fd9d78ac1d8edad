// The pause workload of perf/pause.cpp in Go: a live heap of 48-byte
// linked objects in chains of 4 hanging from one big slice, goroutines
// replacing chains at a steady rate, and a probe that allocates every
// 100 µs. Prints the same lines as the C++ program.
//
//	go build -o pause_go pause.go && ./pause_go [live MiB] [seconds] [threads] [replacements/s per thread]
package main

import (
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync/atomic"
	"time"
)

type node struct {
	next    *node
	payload [4]uint64 // 40 bytes with next: Go's 48-byte class
}

const chainLen = 4

func chain() *node {
	var head *node
	for i := 0; i < chainLen; i++ {
		head = &node{next: head}
	}
	return head
}

func quantile(v []int64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	i := int(q * float64(len(v)))
	if i >= len(v) {
		i = len(v) - 1
	}
	return float64(v[i])
}

func arg(i int, def float64) float64 {
	if len(os.Args) > i {
		if v, err := strconv.ParseFloat(os.Args[i], 64); err == nil {
			return v
		}
	}
	return def
}

func main() {
	liveMiB, seconds := arg(1, 1024), arg(2, 20)
	threads, rate := int(arg(3, 2)), arg(4, 2e6)
	nslots := int(liveMiB*(1<<20)) / (48 * chainLen)
	slots := make([]*node, nslots)
	buildStart := time.Now()
	for i := range slots {
		slots[i] = chain()
	}
	runtime.GC()
	build := time.Since(buildStart)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var stop atomic.Bool
	var replaced atomic.Int64
	for t := 0; t < threads; t++ {
		go func(seed int64) {
			rng := rand.New(rand.NewSource(seed))
			const batch = 1000
			batchTime := time.Duration(float64(batch) / rate * 1e9)
			next := time.Now()
			for !stop.Load() {
				for i := 0; i < batch/chainLen; i++ {
					slots[rng.Intn(nslots)] = chain()
				}
				replaced.Add(batch)
				next = next.Add(batchTime)
				time.Sleep(time.Until(next))
			}
		}(int64(t + 1))
	}

	const period = 100 * time.Microsecond
	var lateness, service []int64
	rng := rand.New(rand.NewSource(99))
	start := time.Now()
	end := start.Add(time.Duration(seconds * 1e9))
	for deadline := start.Add(period); deadline.Before(end); deadline = deadline.Add(period) {
		time.Sleep(time.Until(deadline))
		begin := time.Now()
		slots[rng.Intn(nslots)] = &node{}
		done := time.Now()
		lateness = append(lateness, int64(begin.Sub(deadline)))
		service = append(service, int64(done.Sub(begin)))
		for deadline.Add(period).Before(done) {
			deadline = deadline.Add(period)
		}
	}
	stop.Store(true)

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var pauses []int64
	for i := before.NumGC; i < ms.NumGC; i++ {
		pauses = append(pauses, int64(ms.PauseNs[i%256]))
	}
	fmt.Printf("mode go live_mib %.0f build_s %.1f seconds %.0f threads %d replaced_per_s %.0f cycles %d gc_cpu_pct %.1f\n",
		liveMiB, build.Seconds(), seconds, threads, float64(replaced.Load())/seconds, ms.NumGC-before.NumGC,
		100*ms.GCCPUFraction)
	fmt.Printf("mark phases 0  median_ms 0.0  max_ms 0.0\n")
	// Go reports one figure per cycle: both of its pauses added together.
	fmt.Printf("pauses %d  max_us %.1f  p99.9_us %.1f  p99_us %.1f  p50_us %.1f  max_ttsp_us 0.0\n", len(pauses),
		quantile(pauses, 1)/1e3, quantile(pauses, 0.999)/1e3, quantile(pauses, 0.99)/1e3, quantile(pauses, 0.5)/1e3)
	fmt.Printf("probe %d  late_p50_us %.1f  late_p99.9_us %.1f  late_max_us %.1f  service_p99.9_us %.1f  service_max_us %.1f\n",
		len(lateness), quantile(lateness, 0.5)/1e3, quantile(lateness, 0.999)/1e3, quantile(lateness, 1)/1e3,
		quantile(service, 0.999)/1e3, quantile(service, 1)/1e3)
	runtime.KeepAlive(slots)
}
