package main

// crawl-baseline: the crawl loop go-ethereum's tools use (cmd/devp2p `discv4 crawl`:
// RandomNodes iterators over p2p/discover, RequestENR for every new node), run against
// a loopback network, for the same-run comparison in benches/bench_crawl.py.
//
// args:   -bootnodes enode,... -expect N -timeout D -iters K
// stdout: {"found": n, "with_enr": m, "seconds": f}

import (
	"encoding/json"
	"flag"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/enode"
)

func init() {
	register("crawl-baseline", "crawl a discv4 network with geth's RandomNodes+RequestENR loop (JSON)", runCrawlBaseline)
}

func runCrawlBaseline(args []string) error {
	fs := flag.NewFlagSet("crawl-baseline", flag.ContinueOnError)
	bootArg := fs.String("bootnodes", "", "comma-separated enode URLs")
	expect := fs.Int("expect", 0, "stop once this many nodes are found (0: run until -timeout)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	iters := fs.Int("iters", 16, "random-node iterators in parallel (cmd/devp2p runs 16)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	boot, err := parseBootnodes(*bootArg)
	if err != nil {
		return err
	}
	key, err := crypto.GenerateKey()
	if err != nil {
		return err
	}
	start := time.Now()
	disc, err := listenDiscv4(key, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, boot)
	if err != nil {
		return err
	}
	defer disc.Close()
	var mu sync.Mutex
	found := map[enode.ID]bool{}
	withENR := 0
	done := make(chan struct{})
	var once sync.Once
	deadline := time.After(*timeout)
	for i := 0; i < *iters; i++ {
		it := disc.RandomNodes()
		go func() {
			defer it.Close()
			for it.Next() {
				n := it.Node()
				mu.Lock()
				seen := found[n.ID()]
				found[n.ID()] = true
				total := len(found)
				mu.Unlock()
				if seen {
					continue
				}
				if _, err := disc.RequestENR(n); err == nil {
					mu.Lock()
					withENR++
					mu.Unlock()
				}
				if *expect > 0 && total >= *expect {
					once.Do(func() { close(done) })
				}
			}
		}()
	}
	select {
	case <-done:
	case <-deadline:
	}
	elapsed := time.Since(start).Seconds()
	mu.Lock()
	defer mu.Unlock()
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"found": len(found), "with_enr": withENR, "seconds": elapsed,
	})
}

// parseBootnodes reads a comma-separated list of enode URLs (empty entries skipped).
func parseBootnodes(arg string) ([]*enode.Node, error) {
	var boot []*enode.Node
	for _, s := range strings.Split(arg, ",") {
		if s == "" {
			continue
		}
		n, err := enode.Parse(enode.ValidSchemes, s)
		if err != nil {
			return nil, err
		}
		boot = append(boot, n)
	}
	return boot, nil
}
