package main

// discv4-net: N go-ethereum discv4 nodes in one process, each on its own loopback address
// (127.b.c.1, its own /24, as hosts of a real network), bootstrapped from the given bootnodes;
// the part of the 2,000-node crawl network in benches/bench_crawl.py that keeps up on a
// 2-core machine (a Go node answers in microseconds; hundreds of Python nodes per process
// do not).
//
// args:   -nodes N -bootnodes enode,... -first-host K (hosts 127.(K+i>>8).(i&255).1) -rounds R
// stdout: one line {"urls": [enode...]} once every node has run R lookups (its own key first,
//         then random targets, as geth's table refresh does: nodes that join later, here or in
//         the peerwire workers, reach the tables in the later rounds)
// stdin:  a line "tables": answer {"ids": [hex...]}, every node ID some table here holds (with
//         the peerwire workers' answers, the part of the network a crawl can ever meet);
//         closed to stop

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"flag"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/discover"
)

func init() {
	register("discv4-net", "N go-ethereum discv4 nodes on their own loopback hosts (JSON enode list)", runDiscv4Net)
}

func runDiscv4Net(args []string) error {
	fs := flag.NewFlagSet("discv4-net", flag.ContinueOnError)
	n := fs.Int("nodes", 100, "nodes")
	bootArg := fs.String("bootnodes", "", "comma-separated enode URLs")
	firstHost := fs.Int("first-host", 100, "second octet of the first node's 127.x.y.1 address")
	rounds := fs.Int("rounds", 1, "warm-up lookups per node")
	if err := fs.Parse(args); err != nil {
		return err
	}
	boot, err := parseBootnodes(*bootArg)
	if err != nil {
		return err
	}
	nodes := make([]*discover.UDPv4, 0, *n)
	defer func() {
		for _, d := range nodes {
			d.Close()
		}
	}()
	for i := 0; i < *n; i++ {
		key, err := crypto.GenerateKey()
		if err != nil {
			return err
		}
		ip := net.IPv4(127, byte(*firstHost+i>>8), byte(i&255), 1)
		d, err := listenDiscv4(key, &net.UDPAddr{IP: ip}, boot)
		if err != nil {
			return err
		}
		nodes = append(nodes, d)
	}
	// R lookups each (64 at a time): every node is in some tables before the crawl starts.
	for r := 0; r < *rounds; r++ {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64)
		for _, d := range nodes {
			wg.Add(1)
			go func(d *discover.UDPv4) {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				if r == 0 {
					d.LookupPubkey(d.Self().Pubkey())
					return
				}
				key, err := crypto.GenerateKey()
				if err == nil {
					d.LookupPubkey(&key.PublicKey)
				}
			}(d)
		}
		wg.Wait()
	}
	urls := make([]string, 0, len(nodes))
	for _, d := range nodes {
		urls = append(urls, d.Self().URLv4())
	}
	out := json.NewEncoder(os.Stdout)
	if err := out.Encode(map[string]any{"urls": urls}); err != nil {
		return err
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if strings.TrimSpace(in.Text()) != "tables" {
			_ = out.Encode(map[string]any{"error": "bad command"})
			continue
		}
		if err := out.Encode(map[string]any{"ids": tableIDs(nodes)}); err != nil {
			return err
		}
	}
	return in.Err()
}

// tableIDs lists every node ID (hex) held in some node's table.
func tableIDs(nodes []*discover.UDPv4) []string {
	seen := make(map[[32]byte]bool)
	for _, d := range nodes {
		for _, b := range d.TableBuckets() {
			for _, bn := range b {
				seen[bn.Node.ID()] = true
			}
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, hex.EncodeToString(id[:]))
	}
	return ids
}
