package main

// discv5-net: an in-process loopback network of N go-ethereum discv5 nodes, and geth's
// RandomNodes crawl over it, for the enumeration comparison in benches/bench_discv5_crawl.py.
//
// args:   -nodes N -rounds R
// stdout: first line {"boot": "enr:...", "ids": [hex...], "in_tables": k} once every node has
//         run R lookups (its own ID first, then random targets, as geth's table refresh does;
//         late joiners reach others' tables in the later rounds); k counts the network's nodes
//         that some node's table holds, all a walk can ever meet. Then one JSON answer per command.
// stdin:  {"cmd": "crawl", "want": 0.99, "timeout": seconds}: a fresh geth node walks
//         RandomNodes from the bootnode until it has met want*N of the network's nodes;
//         answer {"found": k, "seconds": f}.
//         {"cmd": "lookup", "count": k}: a geth node that joined from the bootnode (one lookup
//         of its own ID, on the first such command) times k lookups of random targets; answer {"times_ms": [...],
//         "results_mean": f}. The lookup-latency bench runs a peerwire node the same way
//         over the same network.

import (
	"bufio"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/p2p/discover"
	"github.com/ethereum/go-ethereum/p2p/enode"
)

func init() {
	register("discv5-net", "N-node loopback go-ethereum discv5 network with a RandomNodes crawl (JSON)", runDiscv5Net)
}

type crawlCmd struct {
	Cmd     string  `json:"cmd"`
	Want    float64 `json:"want"`
	Timeout float64 `json:"timeout"`
	Count   int     `json:"count"`
}

func runDiscv5Net(args []string) error {
	fs := flag.NewFlagSet("discv5-net", flag.ContinueOnError)
	n := fs.Int("nodes", 1000, "network size")
	rounds := fs.Int("rounds", 3, "warm-up lookups per node")
	if err := fs.Parse(args); err != nil {
		return err
	}
	boot, err := startDiscv5(nil)
	if err != nil {
		return err
	}
	nodes := []*discover.UDPv5{boot}
	for len(nodes) < *n {
		d, err := startDiscv5([]*enode.Node{boot.Self()})
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
	for r := 0; r < *rounds; r++ {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64)
		for _, d := range nodes {
			wg.Add(1)
			go func(d *discover.UDPv5) {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				target := d.Self().ID()
				if r > 0 {
					_, _ = crand.Read(target[:])
				}
				d.Lookup(target)
			}(d)
		}
		wg.Wait()
	}
	ids := make([]string, 0, len(nodes))
	all := make(map[enode.ID]bool, len(nodes))
	for _, d := range nodes {
		ids = append(ids, d.Self().ID().String())
		all[d.Self().ID()] = true
	}
	inTables := make(map[enode.ID]bool, len(nodes))
	for _, d := range nodes {
		for _, x := range d.AllNodes() {
			if all[x.ID()] {
				inTables[x.ID()] = true
			}
		}
	}
	out := json.NewEncoder(os.Stdout)
	hello := map[string]any{"boot": boot.Self().String(), "ids": ids, "in_tables": len(inTables)}
	if err := out.Encode(hello); err != nil {
		return err
	}
	var looker *discover.UDPv5
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var c crawlCmd
		if err := json.Unmarshal(in.Bytes(), &c); err != nil || (c.Cmd != "crawl" && c.Cmd != "lookup") {
			_ = out.Encode(map[string]any{"error": "bad command"})
			continue
		}
		if c.Cmd == "lookup" {
			if looker == nil {
				// One node for every lookup command, kept until the end: a node that left
				// would stay in others' tables, and every later lookup would wait out its
				// response timeout.
				if looker, err = startDiscv5([]*enode.Node{boot.Self()}); err != nil {
					return err
				}
				defer looker.Close()
				looker.Lookup(looker.Self().ID())
			}
			res, err := gethLookups(looker, c.Count)
			if err != nil {
				res = map[string]any{"error": err.Error()}
			}
			if err := out.Encode(res); err != nil {
				return err
			}
			continue
		}
		found, secs, err := gethCrawl(boot.Self(), all, c.Want, time.Duration(c.Timeout*float64(time.Second)))
		if err != nil {
			_ = out.Encode(map[string]any{"error": err.Error(), "found": found, "seconds": secs})
			continue
		}
		if err := out.Encode(map[string]any{"found": found, "seconds": secs}); err != nil {
			return err
		}
	}
	return in.Err()
}

// gethCrawl walks a fresh node's RandomNodes (the iterator geth's devp2p crawler uses)
// until it has met want*len(all) nodes of the network or the timeout passes.
func gethCrawl(boot *enode.Node, all map[enode.ID]bool, want float64, timeout time.Duration) (int, float64, error) {
	d, err := startDiscv5([]*enode.Node{boot})
	if err != nil {
		return 0, 0, err
	}
	defer d.Close()
	need := int(want * float64(len(all)))
	seen := make(map[enode.ID]bool)
	start := time.Now()
	it := d.RandomNodes()
	timer := time.AfterFunc(timeout, it.Close)
	defer timer.Stop()
	for len(seen) < need && it.Next() {
		if id := it.Node().ID(); all[id] {
			seen[id] = true
		}
	}
	it.Close()
	if len(seen) < need {
		return len(seen), time.Since(start).Seconds(), errors.New("crawl timed out")
	}
	return len(seen), time.Since(start).Seconds(), nil
}

// gethLookups times count random lookups of d.
func gethLookups(d *discover.UDPv5, count int) (map[string]any, error) {
	times := make([]float64, 0, count)
	total := 0
	for i := 0; i < count; i++ {
		start := time.Now()
		res := d.Lookup(randomID())
		times = append(times, float64(time.Since(start).Microseconds())/1000)
		total += len(res)
	}
	return map[string]any{"times_ms": times, "results_mean": float64(total) / float64(max(count, 1))}, nil
}
