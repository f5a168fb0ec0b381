// Command cadvisor-bench runs cAdvisor's container manager as the kubelet embeds it, with the raw cgroup
// container factory only, so `npm run bench -- process` can measure it beside Xander on the same cgroup tree.
// It serves, on a loopback port, how many samples it has taken of each container it tracks, so the bench
// can check that it really tracked every container and at what rate.
//
//	cadvisor-bench -listen 127.0.0.1:0 -cgroup_roots /kubepods -housekeeping_interval 1s -allow_dynamic_housekeeping=false
//
// cAdvisor's own flags (-housekeeping_interval, -max_housekeeping_interval, -allow_dynamic_housekeeping, ...)
// are registered by its packages and apply as they do in cAdvisor.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/cadvisor/cache/memory"
	"github.com/google/cadvisor/container"
	info "github.com/google/cadvisor/info/v1"
	"github.com/google/cadvisor/manager"
	"github.com/google/cadvisor/storage"
	"github.com/google/cadvisor/utils/sysfs"
	"k8s.io/klog/v2"
)

// kubeletMetrics is the metric set pkg/kubelet/cadvisor enables (with KubeletPSI, on by default since 1.34).
const kubeletMetrics = "cpu,memory,cpuLoad,diskIO,network,app,process,oom_event,pressure"

// sampleCounter is a storage driver that only counts the samples housekeeping hands to the cache.
type sampleCounter struct {
	mu     sync.Mutex
	counts map[string]uint64
}

func (c *sampleCounter) AddStats(cInfo *info.ContainerInfo, _ *info.ContainerStats) error {
	c.mu.Lock()
	c.counts[cInfo.ContainerReference.Name]++
	c.mu.Unlock()
	return nil
}

func (c *sampleCounter) Close() error { return nil }

// samplesResponse is what GET /samples answers: samples taken so far per container under the prefix.
type samplesResponse struct {
	Containers int               `json:"containers"`
	Samples    map[string]uint64 `json:"samples"`
}

func (c *sampleCounter) serve(w http.ResponseWriter, r *http.Request) {
	prefix := r.URL.Query().Get("prefix")
	out := samplesResponse{Samples: map[string]uint64{}}
	c.mu.Lock()
	for name, n := range c.counts {
		if strings.HasPrefix(name, prefix) {
			out.Samples[name] = n
		}
	}
	c.mu.Unlock()
	out.Containers = len(out.Samples)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func main() {
	klog.InitFlags(nil)
	listen := flag.String("listen", "127.0.0.1:0", "address to serve /samples on; the bound address is printed on stdout")
	cgroupRoots := flag.String("cgroup_roots", "/kubepods", "comma-separated cgroup prefixes the raw factory accepts, as the kubelet passes its cgroup roots")
	cacheDuration := flag.Duration("storage_duration", 2*time.Minute, "how long samples stay in the in-memory cache (the kubelet keeps 2 min)")
	metrics := container.MetricSet{}
	if err := metrics.Set(kubeletMetrics); err != nil {
		panic(err)
	}
	flag.Var(&metrics, "metrics", "comma-separated metric kinds to collect (default: the kubelet's set)")
	flag.Parse()

	counter := &sampleCounter{counts: map[string]uint64{}}
	config := manager.HousekeepingConfig{Interval: manager.HousekeepingConfigFlags.Interval, AllowDynamic: manager.HousekeepingConfigFlags.AllowDynamic}
	// The counter sits behind the cache as a backend, so it sees every sample the cache stores.
	cache := memory.New(*cacheDuration, []storage.StorageDriver{counter})
	m, err := manager.New(cache, sysfs.NewRealSysFs(), config, metrics, http.DefaultClient,
		strings.Split(*cgroupRoots, ","), nil, "", 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cadvisor-bench: %v\n", err)
		os.Exit(1)
	}
	if err := m.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "cadvisor-bench: start: %v\n", err)
		os.Exit(1)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cadvisor-bench: %v\n", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/samples", counter.serve)
	go func() { _ = http.Serve(ln, mux) }()
	fmt.Printf("listening on %s\n", ln.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	_ = m.Stop()
}
