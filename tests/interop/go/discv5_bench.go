package main

// discv5-bench: go-ethereum v5wire.Codec decode rate of in-session message packets and
// handshake rate (random packet -> WHOAREYOU -> handshake -> session keys on both sides),
// for the same-run comparison in benches/bench_discv5.py.
//
// args:   -n N (packets per round) -rounds R -handshakes H
// stdout: {"packets": N, "best_per_s": f, "mean_per_s": f, "handshakes": H, "handshakes_per_s": f}

import (
	"crypto/ecdsa"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common/mclock"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/discover"
	"github.com/ethereum/go-ethereum/p2p/discover/v5wire"
	"github.com/ethereum/go-ethereum/p2p/enode"
)

func init() {
	register("discv5-bench", "go-ethereum v5wire decode and handshake rates (JSON)", runDiscv5Bench)
}

type v5side struct {
	key   *ecdsa.PrivateKey
	ln    *enode.LocalNode
	codec *v5wire.Codec
}

func newV5Side(port int) (*v5side, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	db, err := enode.OpenDB("")
	if err != nil {
		return nil, err
	}
	ln := enode.NewLocalNode(db, key)
	ln.SetStaticIP(net.IPv4(127, 0, 0, 1))
	ln.SetFallbackUDP(port)
	return &v5side{key, ln, v5wire.NewCodec(ln, key, mclock.System{}, nil)}, nil
}

// handshake runs one full handshake from a to b, with a distinct address per round so
// that each round makes new session keys.
func handshake(a, b *v5side, addrA, addrB string) error {
	ping := &v5wire.Ping{ReqID: []byte{1}, ENRSeq: 1}
	p1, _, err := a.codec.Encode(b.ln.ID(), addrB, ping, nil)
	if err != nil {
		return err
	}
	p1 = append([]byte(nil), p1...)
	_, _, pkt, err := b.codec.Decode(p1, addrA)
	if err != nil {
		return err
	}
	unk, ok := pkt.(*v5wire.Unknown)
	if !ok {
		return fmt.Errorf("want Unknown, got %T", pkt)
	}
	wy := &v5wire.Whoareyou{Nonce: unk.Nonce, Node: a.ln.Node(), RecordSeq: a.ln.Node().Seq()}
	_, _ = crand.Read(wy.IDNonce[:])
	w, _, err := b.codec.Encode(a.ln.ID(), addrA, wy, nil)
	if err != nil {
		return err
	}
	w = append([]byte(nil), w...)
	_, _, pkt, err = a.codec.Decode(w, addrB)
	if err != nil {
		return err
	}
	chal, ok := pkt.(*v5wire.Whoareyou)
	if !ok {
		return fmt.Errorf("want WHOAREYOU, got %T", pkt)
	}
	chal.Node = b.ln.Node()
	hs, _, err := a.codec.Encode(b.ln.ID(), addrB, ping, chal)
	if err != nil {
		return err
	}
	hs = append([]byte(nil), hs...)
	_, n, pkt, err := b.codec.Decode(hs, addrA)
	if err != nil {
		return err
	}
	if n == nil || pkt.Kind() != v5wire.PingMsg {
		return errors.New("handshake did not complete")
	}
	return nil
}

func runDiscv5Bench(args []string) error {
	fs := flag.NewFlagSet("discv5-bench", flag.ContinueOnError)
	n := fs.Int("n", 1000, "packets per round")
	rounds := fs.Int("rounds", 10, "decode rounds")
	hsN := fs.Int("handshakes", 300, "handshakes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := newV5Side(30301)
	if err != nil {
		return err
	}
	b, err := newV5Side(30302)
	if err != nil {
		return err
	}
	const addrA, addrB = "127.0.0.1:30301", "127.0.0.1:30302"
	if err := handshake(a, b, addrA, addrB); err != nil {
		return err
	}
	pkts := make([][]byte, *n)
	for i := range pkts {
		p, _, err := a.codec.Encode(b.ln.ID(), addrB, &v5wire.Pong{ReqID: []byte{byte(i), byte(i >> 8)}, ENRSeq: 1, ToIP: net.IPv4(127, 0, 0, 1).To4(), ToPort: 30302}, nil)
		if err != nil {
			return err
		}
		pkts[i] = append([]byte(nil), p...)
	}
	best, sum := 0.0, 0.0
	for r := 0; r < *rounds; r++ {
		start := time.Now()
		for _, p := range pkts {
			if _, _, pkt, err := b.codec.Decode(p, addrA); err != nil || pkt.Kind() != v5wire.PongMsg {
				return fmt.Errorf("decode: %v", err)
			}
		}
		rate := float64(*n) / time.Since(start).Seconds()
		sum += rate
		if rate > best {
			best = rate
		}
	}
	start := time.Now()
	for i := 0; i < *hsN; i++ {
		if err := handshake(a, b, fmt.Sprintf("127.0.0.1:%d", 40000+i), fmt.Sprintf("127.0.0.2:%d", 40000+i)); err != nil {
			return err
		}
	}
	hsRate := float64(*hsN) / time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"packets": *n, "best_per_s": best, "mean_per_s": sum / float64(*rounds),
		"handshakes": *hsN, "handshakes_per_s": hsRate,
	})
}

func init() {
	register("discv5-lookup-bench", "lookup latency in an N-node loopback go-ethereum discv5 network (JSON)", runDiscv5LookupBench)
}

func startDiscv5(boot []*enode.Node) (*discover.UDPv5, error) {
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
	return discover.ListenV5(conn, ln, discover.Config{PrivateKey: key, Bootnodes: boot, NoFindnodeLivenessCheck: true})
}

// discv5-lookup-bench: like discv4-lookup-bench, over discv5 (liveness check off on both
// sides so that a fresh network answers FINDNODE from the start).
// stdout: {"nodes": N, "lookups": K, "mean_ms": f, "median_ms": f, "min_ms": f, "results_mean": f}
func runDiscv5LookupBench(args []string) error {
	fs := flag.NewFlagSet("discv5-lookup-bench", flag.ContinueOnError)
	n := fs.Int("nodes", 64, "network size")
	k := fs.Int("lookups", 20, "measured lookups")
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
	var wg sync.WaitGroup
	for _, d := range nodes {
		wg.Add(1)
		go func(d *discover.UDPv5) {
			defer wg.Done()
			d.Lookup(randomID())
		}(d)
	}
	wg.Wait()
	var times []float64
	total := 0
	for i := 0; i < *k; i++ {
		start := time.Now()
		res := nodes[1%len(nodes)].Lookup(randomID())
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

func randomID() enode.ID {
	var id enode.ID
	_, _ = crand.Read(id[:])
	return id
}
