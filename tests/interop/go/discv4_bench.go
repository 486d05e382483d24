package main

// discv4-lookup-bench: lookup latency in an in-process loopback network of
// go-ethereum discv4 nodes, for the same-run comparison in benches/bench_discv4.py.
//
// args:   -nodes N -lookups K
// stdout: {"nodes": N, "lookups": K, "mean_ms": f, "median_ms": f, "min_ms": f, "results_mean": f}

import (
	"crypto/ecdsa"
	"encoding/json"
	"flag"
	"net"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/discover"
	"github.com/ethereum/go-ethereum/p2p/discover/v4wire"
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
	return listenDiscv4(key, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, boot)
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

func init() {
	register("discv4-decode-bench", "go-ethereum v4wire.Decode rate over signed Pongs (JSON)", runDiscv4DecodeBench)
}

// discv4-decode-bench: packets decoded and signature-checked per second by
// v4wire.Decode, best of -rounds passes over -n distinct Pongs from 16 signers.
// stdout: {"packets": n, "rounds": r, "best_per_s": f, "mean_per_s": f}
func runDiscv4DecodeBench(args []string) error {
	fs := flag.NewFlagSet("discv4-decode-bench", flag.ContinueOnError)
	n := fs.Int("n", 1000, "packets per round")
	rounds := fs.Int("rounds", 5, "rounds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	keys := make([]*ecdsa.PrivateKey, 16)
	for i := range keys {
		k, err := crypto.GenerateKey()
		if err != nil {
			return err
		}
		keys[i] = k
	}
	exp := uint64(time.Now().Add(time.Hour).Unix())
	pkts := make([][]byte, *n)
	for i := range pkts {
		p := &v4wire.Pong{
			To:         v4wire.Endpoint{IP: net.IPv4(127, 0, 0, 1).To4(), UDP: 30303, TCP: 30303},
			ReplyTok:   make([]byte, 32),
			Expiration: exp,
			ENRSeq:     uint64(i),
		}
		b, _, err := v4wire.Encode(keys[i%16], p)
		if err != nil {
			return err
		}
		pkts[i] = b
	}
	best, sum := 0.0, 0.0
	for r := 0; r < *rounds; r++ {
		start := time.Now()
		for _, b := range pkts {
			if _, _, _, err := v4wire.Decode(b); err != nil {
				return err
			}
		}
		rate := float64(*n) / time.Since(start).Seconds()
		sum += rate
		if rate > best {
			best = rate
		}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"packets": *n, "rounds": *rounds, "best_per_s": best, "mean_per_s": sum / float64(*rounds),
	})
}
