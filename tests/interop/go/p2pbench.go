package main

// Benchmarks for the devp2p server comparison (issue 4, item 8).
//
// p2p-bench-setups -n N
//     Go<->Go: two p2p.Servers in this process; N sequential full connection
//     setups (TCP + RLPx + Hello + checks) via SetupConn, each peer dropped
//     after it is up. stdout: {"setups": N, "seconds": s, "per_second": r}
// p2p-hold -target <enode> -n N [-caps echo/1]
//     Opens N idle devp2p connections (RLPx + Hello, answers Pings) to target.
//     stdout: {"connected": N} once all are up; holds them until stdin closes.
// p2p-rss -pid P
//     stdout: {"rss_kib": VmRSS of process P}

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/ethereum/go-ethereum/p2p/rlpx"
	"github.com/ethereum/go-ethereum/rlp"
)

func init() {
	register("p2p-bench-setups", "Go<->Go devp2p connection setups per second", runP2PBenchSetups)
	register("p2p-hold", "hold N idle devp2p connections to a target", runP2PHold)
	register("p2p-rss", "print VmRSS of a process in KiB", runP2PRSS)
}

func idleProto(name string, version uint, length uint64) p2p.Protocol {
	return p2p.Protocol{Name: name, Version: version, Length: length,
		Run: func(peer *p2p.Peer, rw p2p.MsgReadWriter) error {
			for {
				msg, err := rw.ReadMsg()
				if err != nil {
					return err
				}
				msg.Discard()
			}
		}}
}

func runP2PBenchSetups(args []string) error {
	fs := flag.NewFlagSet("p2p-bench-setups", flag.ContinueOnError)
	n := fs.Int("n", 200, "setups")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mk := func() (*p2p.Server, error) {
		key, _ := crypto.GenerateKey()
		srv := &p2p.Server{Config: p2p.Config{PrivateKey: key, Name: "bench", MaxPeers: 100,
			ListenAddr: "127.0.0.1:0", NoDiscovery: true, NoDial: true,
			Protocols: []p2p.Protocol{idleProto("echo", 1, 2)}}}
		return srv, srv.Start()
	}
	a, err := mk()
	if err != nil {
		return err
	}
	defer a.Stop()
	b, err := mk()
	if err != nil {
		return err
	}
	defer b.Stop()
	target := a.Self()
	addr := fmt.Sprintf("127.0.0.1:%d", target.TCP())
	start := time.Now()
	for i := 0; i < *n; i++ {
		fd, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		if err := b.SetupConn(fd, 0, target); err != nil {
			return fmt.Errorf("setup %d: %w", i, err)
		}
		for len(a.Peers()) == 0 {
			time.Sleep(50 * time.Microsecond)
		}
		for _, p := range b.Peers() {
			p.Disconnect(p2p.DiscRequested)
		}
		for len(b.Peers()) > 0 || len(a.Peers()) > 0 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	secs := time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"setups": *n, "seconds": secs, "per_second": float64(*n) / secs})
}

type helloMsg struct {
	Version    uint64
	Name       string
	Caps       []p2p.Cap
	ListenPort uint64
	ID         []byte
}

func holdOne(target *enode.Node, caps []p2p.Cap, ready chan<- error) {
	key, _ := crypto.GenerateKey()
	fd, err := net.Dial("tcp", fmt.Sprintf("%v:%d", target.IP(), target.TCP()))
	if err != nil {
		ready <- err
		return
	}
	conn := rlpx.NewConn(fd, target.Pubkey())
	if _, err := conn.Handshake(key); err != nil {
		ready <- err
		return
	}
	pub := crypto.FromECDSAPub(&key.PublicKey)[1:]
	data, _ := rlp.EncodeToBytes(&helloMsg{Version: 5, Name: "hold", Caps: caps, ID: pub})
	if _, err := conn.Write(0, data); err != nil {
		ready <- err
		return
	}
	code, _, _, err := conn.Read()
	if err != nil || code != 0 {
		ready <- fmt.Errorf("no hello: code %d err %v", code, err)
		return
	}
	conn.SetSnappy(true)
	ready <- nil
	var wmu sync.Mutex
	for {
		code, _, _, err := conn.Read()
		if err != nil {
			return
		}
		if code == 2 { // ping
			wmu.Lock()
			conn.Write(3, []byte{0xc0})
			wmu.Unlock()
		}
	}
}

func runP2PHold(args []string) error {
	fs := flag.NewFlagSet("p2p-hold", flag.ContinueOnError)
	targetURL := fs.String("target", "", "enode URL")
	n := fs.Int("n", 500, "connections")
	capsFlag := fs.String("caps", "echo/1", "caps name/version,...")
	if err := fs.Parse(args); err != nil {
		return err
	}
	target, err := enode.ParseV4(*targetURL)
	if err != nil {
		return err
	}
	var caps []p2p.Cap
	for _, c := range strings.Split(*capsFlag, ",") {
		parts := strings.Split(c, "/")
		v, _ := strconv.Atoi(parts[1])
		caps = append(caps, p2p.Cap{Name: parts[0], Version: uint(v)})
	}
	ready := make(chan error, *n)
	for i := 0; i < *n; i++ {
		go holdOne(target, caps, ready)
		if i%20 == 19 {
			time.Sleep(5 * time.Millisecond) // stay under the target's pending-handshake tokens
		}
	}
	ok := 0
	var firstErr error
	for i := 0; i < *n; i++ {
		if err := <-ready; err != nil {
			if firstErr == nil {
				firstErr = err
			}
		} else {
			ok++
		}
	}
	res := map[string]any{"connected": ok}
	if firstErr != nil {
		res["error"] = firstErr.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

func runP2PRSS(args []string) error {
	fs := flag.NewFlagSet("p2p-rss", flag.ContinueOnError)
	pid := fs.Int("pid", os.Getpid(), "pid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	kib, err := rssKiB(*pid)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"rss_kib": kib})
}

func rssKiB(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmRSS:") {
			fields := strings.Fields(sc.Text())
			return strconv.Atoi(fields[1])
		}
	}
	return 0, fmt.Errorf("no VmRSS")
}
