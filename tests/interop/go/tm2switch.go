// tm2switch.go: gno MultiplexSwitch nodes (gno discovery + an echo reactor on 0x77)
// for the mixed gno / peerwire network tests, and the gno side of the broadcast
// benchmark.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gnolang/gno/tm2/pkg/crypto/ed25519"
	"github.com/gnolang/gno/tm2/pkg/log"
	"github.com/gnolang/gno/tm2/pkg/p2p"
	"github.com/gnolang/gno/tm2/pkg/p2p/config"
	"github.com/gnolang/gno/tm2/pkg/p2p/conn"
	"github.com/gnolang/gno/tm2/pkg/p2p/discovery"
	"github.com/gnolang/gno/tm2/pkg/p2p/events"
	"github.com/gnolang/gno/tm2/pkg/p2p/types"
	"github.com/gnolang/gno/tm2/pkg/versionset"
)

const echoChannel = byte(0x77)

func init() {
	register("tm2-switch-node",
		"a gno switch (discovery + echo on 0x77); JSON events on stdout, commands on stdin",
		runTM2SwitchNode)
	register("tm2-sink",
		"N gno switches (echo reactor, no discovery) dialing -hub; stdin \"wait K\" answers when each got K msgs",
		runTM2Sink)
	register("tm2-bench-broadcast",
		"gno switch broadcasting N messages to P gno peers on loopback; prints msgs/s JSON",
		runTM2BenchBroadcast)
}

// echoReactor answers every message m on 0x77 that does not start with "echo:"
// with "echo:"+m, and reports both directions through emit.
type echoReactor struct {
	p2p.BaseReactor
	emit     func(map[string]any)
	received atomic.Int64
}

func newEchoReactor(emit func(map[string]any)) *echoReactor {
	r := &echoReactor{emit: emit}
	r.BaseReactor = *p2p.NewBaseReactor("echo", r)
	return r
}

func (r *echoReactor) GetChannels() []*conn.ChannelDescriptor {
	return []*conn.ChannelDescriptor{{ID: echoChannel, Priority: 1, SendQueueCapacity: 100, RecvMessageCapacity: 1 << 20}}
}

func (r *echoReactor) Receive(ch byte, p p2p.PeerConn, msg []byte) {
	r.received.Add(1)
	if r.emit == nil {
		return
	}
	m := string(msg)
	if strings.HasPrefix(m, "echo:") {
		r.emit(map[string]any{"event": "echoed", "peer": string(p.ID()), "msg": m})
		return
	}
	r.emit(map[string]any{"event": "recv", "peer": string(p.ID()), "msg": m})
	reply := append([]byte("echo:"), msg...)
	go p.Send(ch, reply)
}

type gnoNode struct {
	key       *types.NodeKey
	addr      *types.NetAddress
	transport *p2p.MultiplexTransport
	sw        *p2p.MultiplexSwitch
	echo      *echoReactor
}

func parseAddrs(list string) ([]*types.NetAddress, error) {
	var out []*types.NetAddress
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		a, err := types.NewNetAddressFromString(s)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

type nodeOpts struct {
	secret, network, seeds, persistent, private, book string
	port, maxIn, maxOut                               int
	discovery                                         bool
	interval                                          time.Duration
	emit                                              func(map[string]any)
}

func startGnoNode(o nodeOpts) (*gnoNode, error) {
	key := &types.NodeKey{PrivKey: ed25519.GenPrivKeyFromSecret([]byte(o.secret))}
	na, err := types.NewNetAddress(key.ID(), &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: o.port})
	if err != nil {
		return nil, err
	}
	channels := []byte{echoChannel}
	if o.discovery {
		channels = append(channels, discovery.Channel)
	}
	info := types.NodeInfo{
		VersionSet: versionset.VersionSet{},
		NetAddress: na,
		Network:    o.network,
		Software:   "gno-harness",
		Version:    "v1.0.0-rc.0",
		Channels:   channels,
		Moniker:    "gno-" + o.secret,
	}
	if err := info.Validate(); err != nil {
		return nil, fmt.Errorf("node info: %w", err)
	}
	tr := p2p.NewMultiplexTransport(info, *key, conn.MConfigFromP2P(config.DefaultP2PConfig()), log.NewNoopLogger())
	if err := tr.Listen(*na); err != nil {
		return nil, err
	}
	echo := newEchoReactor(o.emit)
	opts := []p2p.SwitchOption{
		p2p.WithReactor("echo", echo),
		p2p.WithMaxInboundPeers(uint64(o.maxIn)),
		p2p.WithMaxOutboundPeers(uint64(o.maxOut)),
		// Every node of a local network shares 127.0.0.1: gno v1.7 refuses a second
		// peer from one IP unless told otherwise.
		p2p.WithAllowDuplicateIP(true),
	}
	if o.discovery {
		book := o.book
		if book == "" {
			dir, err := os.MkdirTemp("", "gno-addrbook-")
			if err != nil {
				return nil, err
			}
			book = filepath.Join(dir, "addrbook.json")
		}
		store, err := discovery.NewStore(book, *na)
		if err != nil {
			return nil, err
		}
		var dopts []discovery.Option
		if o.interval > 0 {
			dopts = append(dopts, discovery.WithDiscoveryInterval(o.interval))
		}
		opts = append(opts, p2p.WithReactor("discovery", discovery.NewReactor(store, dopts...)))
	}
	for _, pair := range []struct {
		list string
		fn   func([]*types.NetAddress) p2p.SwitchOption
	}{{o.seeds, p2p.WithSeeds}, {o.persistent, p2p.WithPersistentPeers}} {
		addrs, err := parseAddrs(pair.list)
		if err != nil {
			return nil, err
		}
		if len(addrs) > 0 {
			opts = append(opts, pair.fn(addrs))
		}
	}
	if o.private != "" {
		var ids []types.ID
		for _, s := range strings.Split(o.private, ",") {
			ids = append(ids, types.ID(strings.TrimSpace(s)))
		}
		opts = append(opts, p2p.WithPrivatePeers(ids))
	}
	sw := p2p.NewMultiplexSwitch(tr, opts...)
	if o.emit != nil {
		ch, _ := sw.Subscribe(func(events.Event) bool { return true })
		go func() {
			for ev := range ch {
				switch e := ev.(type) {
				case events.PeerConnectedEvent:
					o.emit(map[string]any{"event": "connected", "peer": string(e.PeerID)})
				case events.PeerDisconnectedEvent:
					reason := ""
					if e.Reason != nil {
						reason = e.Reason.Error()
					}
					o.emit(map[string]any{"event": "disconnected", "peer": string(e.PeerID), "reason": reason})
				}
			}
		}()
	}
	if err := sw.Start(); err != nil {
		return nil, err
	}
	return &gnoNode{key: key, addr: na, transport: tr, sw: sw, echo: echo}, nil
}

// freePort asks the kernel for a free 127.0.0.1 port (NodeInfo must advertise a real port).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (n *gnoNode) stop() {
	_ = n.transport.Close()
	_ = n.sw.Stop()
}

// runTM2SwitchNode runs one gno node until stdin closes or "quit". Commands:
// "peers", "dial <id@ip:port>", "send <id> <text>", "broadcast <text>", "quit".
func runTM2SwitchNode(args []string) error {
	fs := flag.NewFlagSet("tm2-switch-node", flag.ContinueOnError)
	var o nodeOpts
	fs.StringVar(&o.secret, "secret", "gno-node", "GenPrivKeyFromSecret input")
	fs.IntVar(&o.port, "port", 0, "listen port on 127.0.0.1 (required: NodeInfo advertises it)")
	fs.StringVar(&o.network, "network", "interop", "network name")
	fs.StringVar(&o.seeds, "seeds", "", "comma-separated id@ip:port seeds")
	fs.StringVar(&o.persistent, "persistent", "", "comma-separated id@ip:port persistent peers")
	fs.StringVar(&o.private, "private", "", "comma-separated private peer IDs")
	fs.StringVar(&o.book, "book", "", "address book path (default: a temp file)")
	fs.IntVar(&o.maxIn, "max-in", 40, "max inbound peers")
	fs.IntVar(&o.maxOut, "max-out", 10, "max outbound peers")
	fs.BoolVar(&o.discovery, "discovery", true, "run gno's discovery reactor")
	fs.DurationVar(&o.interval, "interval", 0, "discovery interval (default gno's 3s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.port == 0 {
		return errors.New("-port is required")
	}
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	o.emit = func(m map[string]any) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(m)
	}
	node, err := startGnoNode(o)
	if err != nil {
		return err
	}
	defer node.stop()
	o.emit(map[string]any{"event": "ready", "id": string(node.key.ID()), "addr": node.addr.String()})
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		fields := strings.SplitN(strings.TrimSpace(sc.Text()), " ", 3)
		switch fields[0] {
		case "":
		case "quit":
			return nil
		case "peers":
			ids := []string{}
			for _, p := range node.sw.Peers().List() {
				ids = append(ids, string(p.ID()))
			}
			o.emit(map[string]any{"event": "peers", "ids": ids})
		case "dial":
			addrs, err := parseAddrs(strings.Join(fields[1:], ","))
			if err != nil {
				o.emit(map[string]any{"event": "error", "error": err.Error()})
				continue
			}
			node.sw.DialPeers(addrs...)
		case "send":
			if len(fields) < 3 {
				continue
			}
			p := node.sw.Peers().Get(types.ID(fields[1]))
			ok := p != nil && p.Send(echoChannel, []byte(fields[2]))
			o.emit(map[string]any{"event": "sent", "peer": fields[1], "ok": ok})
		case "broadcast":
			node.sw.Broadcast(echoChannel, []byte(strings.Join(fields[1:], " ")))
		default:
			o.emit(map[string]any{"event": "error", "error": "unknown command " + fields[0]})
		}
	}
	return sc.Err()
}

// runTM2BenchBroadcast: one gno switch, P gno peers dialed into it, N broadcasts of
// S bytes on 0x77; reports how fast every peer received every message.
func runTM2BenchBroadcast(args []string) error {
	fs := flag.NewFlagSet("tm2-bench-broadcast", flag.ContinueOnError)
	peers := fs.Int("peers", 100, "connected peers")
	msgs := fs.Int("msgs", 200, "messages broadcast")
	size := fs.Int("size", 1024, "message size")
	if err := fs.Parse(args); err != nil {
		return err
	}
	hubPort, err := freePort()
	if err != nil {
		return err
	}
	hub, err := startGnoNode(nodeOpts{secret: "bench-hub", port: hubPort, network: "interop",
		maxIn: *peers + 10, maxOut: 10})
	if err != nil {
		return err
	}
	defer hub.stop()
	nodes := make([]*gnoNode, 0, *peers)
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	for i := 0; i < *peers; i++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		n, err := startGnoNode(nodeOpts{secret: fmt.Sprintf("bench-peer-%d", i), port: port,
			network: "interop", maxIn: 10, maxOut: 10})
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
		n.sw.DialPeers(hub.addr)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(hub.sw.Peers().List()) < *peers {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d peers connected", len(hub.sw.Peers().List()), *peers)
		}
		time.Sleep(20 * time.Millisecond)
	}
	payload := make([]byte, *size)
	want := int64(*msgs)
	start := time.Now()
	for i := 0; i < *msgs; i++ {
		copy(payload, fmt.Sprintf("m%08d", i))
		hub.sw.Broadcast(echoChannel, append([]byte(nil), payload...))
	}
	for {
		done := true
		for _, n := range nodes {
			if n.echo.received.Load() < want {
				done = false
				break
			}
		}
		if done {
			break
		}
		if time.Now().After(start.Add(120 * time.Second)) {
			return errors.New("broadcast did not complete in 120 s")
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"peers": *peers, "msgs": *msgs, "size": *size, "seconds": elapsed,
		"msgs_per_s":       float64(*msgs) / elapsed,
		"deliveries_per_s": float64(*msgs**peers) / elapsed,
		"hex_first":        hex.EncodeToString(payload[:4]),
	})
}

// runTM2Sink starts -n gno nodes that dial -hub and count what arrives on 0x77.
// It prints {"event":"ready"} once all are connected to the hub, then for each
// stdin line "wait K" prints {"event":"done"} when every node has received K
// messages in total (or {"event":"timeout"} after 120 s).
func runTM2Sink(args []string) error {
	fs := flag.NewFlagSet("tm2-sink", flag.ContinueOnError)
	n := fs.Int("n", 100, "gno nodes")
	hubAddr := fs.String("hub", "", "id@ip:port of the hub every node dials")
	if err := fs.Parse(args); err != nil {
		return err
	}
	hub, err := types.NewNetAddressFromString(*hubAddr)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	nodes := make([]*gnoNode, 0, *n)
	defer func() {
		for _, x := range nodes {
			x.stop()
		}
	}()
	for i := 0; i < *n; i++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		x, err := startGnoNode(nodeOpts{secret: fmt.Sprintf("sink-%d", i), port: port, network: "interop",
			maxIn: 10, maxOut: 10})
		if err != nil {
			return err
		}
		nodes = append(nodes, x)
		x.sw.DialPeers(hub)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ready := 0
		for _, x := range nodes {
			if x.sw.Peers().Has(hub.ID) {
				ready++
			}
		}
		if ready == len(nodes) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d sinks connected to the hub", ready, len(nodes))
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = enc.Encode(map[string]any{"event": "ready"})
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var k int64
		if _, err := fmt.Sscanf(sc.Text(), "wait %d", &k); err != nil {
			continue
		}
		end := time.Now().Add(120 * time.Second)
		for {
			done := true
			for _, x := range nodes {
				if x.echo.received.Load() < k {
					done = false
					break
				}
			}
			if done {
				_ = enc.Encode(map[string]any{"event": "done"})
				break
			}
			if time.Now().After(end) {
				_ = enc.Encode(map[string]any{"event": "timeout"})
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	return sc.Err()
}
