package main

// discv4-lookup-bench: lookup latency in an in-process loopback network of
// go-ethereum discv4 nodes, for the same-run comparison in benches/bench_discv4.py.
//
// args:   -nodes N -lookups K
// stdout: {"nodes": N, "lookups": K, "mean_ms": f, "median_ms": f, "min_ms": f, "results_mean": f}

import (
	"encoding/json"
	"flag"
	"net"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/discover"
	"github.com/ethereum/go-ethereum/p2p/enode"
)

func init() {
	register("discv4-lookup-bench", "lookup latency in an N-node loopback go-ethereum discv4 network (JSON)", runDiscv4Bench)
}

func startDiscv4(boot []*enode.Node) (*discover.UDPv4, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	db, err := enode.OpenDB("")
	if err != nil {
		return nil, err
	}
	ln := enode.NewLocalNode(db, key)
	laddr := conn.LocalAddr().(*net.UDPAddr)
	ln.SetStaticIP(laddr.IP)
	ln.SetFallbackUDP(laddr.Port)
	return discover.ListenV4(conn, ln, discover.Config{PrivateKey: key, Bootnodes: boot})
}

func runDiscv4Bench(args []string) error {
	fs := flag.NewFlagSet("discv4-lookup-bench", flag.ContinueOnError)
	n := fs.Int("nodes", 64, "network size")
	k := fs.Int("lookups", 20, "measured lookups")
	if err := fs.Parse(args); err != nil {
		return err
	}
	boot, err := startDiscv4(nil)
	if err != nil {
		return err
	}
	nodes := []*discover.UDPv4{boot}
	for len(nodes) < *n {
		d, err := startDiscv4([]*enode.Node{boot.Self()})
		if err != nil {
			return err
		}
		nodes = append(nodes, d)
	}
	defer func() {
		for _, d := range nodes {
			d.Close()
		}
	}()
	// Warm-up: every node runs one random lookup so the tables fill.
	var wg sync.WaitGroup
	for _, d := range nodes {
		wg.Add(1)
		go func(d *discover.UDPv4) {
			defer wg.Done()
			key, _ := crypto.GenerateKey()
			d.LookupPubkey(&key.PublicKey)
		}(d)
	}
	wg.Wait()
	var times []float64
	total := 0
	for i := 0; i < *k; i++ {
		key, _ := crypto.GenerateKey()
		start := time.Now()
		res := nodes[1%len(nodes)].LookupPubkey(&key.PublicKey)
		times = append(times, float64(time.Since(start).Microseconds())/1000)
		total += len(res)
	}
	sort.Float64s(times)
	sum := 0.0
	for _, t := range times {
		sum += t
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"nodes": *n, "lookups": *k, "mean_ms": sum / float64(len(times)),
		"median_ms": times[len(times)/2], "min_ms": times[0],
		"results_mean": float64(total) / float64(len(times)),
	})
}
