package main

// tm2mconn: gno conn.MConnection as a peer and as a benchmark.
//
//   tm2-mconn        raw MConnection over a gno SecretConnection (-listen-port / -dial), channels
//                    0x10 (priority 1), 0x11 (priority 5), 0x12 (priority 10); echoes every message on
//                    its channel. stdin JSON lines: {"cmd":"send","ch":16,"hex":".."} | {"cmd":"stats"}.
//                    stdout events: listening, ready, stats, error.
//   tm2-mconn-bench  Go<->Go MConnection throughput with rate limits raised out of the way.

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gnolang/gno/tm2/pkg/crypto/ed25519"
	"github.com/gnolang/gno/tm2/pkg/p2p"
	"github.com/gnolang/gno/tm2/pkg/p2p/conn"
	"github.com/gnolang/gno/tm2/pkg/p2p/types"
)

func init() {
	register("tm2-mconn", "gno MConnection echo peer on channels 0x10/0x11/0x12 (-listen-port or -dial)", runTM2MConn)
	register("tm2-mconn-bench", "Go<->Go gno MConnection throughput: -sizes 1024,65536 -total bytes", runTM2MConnBench)
}

var emitMu sync.Mutex

func emitLocked(v map[string]any) {
	emitMu.Lock()
	defer emitMu.Unlock()
	emit(v)
}

func benchChannels() []*conn.ChannelDescriptor {
	return []*conn.ChannelDescriptor{
		{ID: 0x10, Priority: 1, SendQueueCapacity: 100, RecvMessageCapacity: 1 << 22},
		{ID: 0x11, Priority: 5, SendQueueCapacity: 100, RecvMessageCapacity: 1 << 22},
		{ID: 0x12, Priority: 10, SendQueueCapacity: 100, RecvMessageCapacity: 1 << 22},
	}
}

func runTM2MConn(args []string) error {
	fs := flag.NewFlagSet("tm2-mconn", flag.ContinueOnError)
	listen := fs.Int("listen-port", -1, "listen on 127.0.0.1:<port>")
	dial := fs.String("dial", "", "dial host:port")
	seed := fs.String("seed", "", "ed25519 seed hex")
	pingMs := fs.Int("ping-ms", 60000, "ping interval")
	pongMs := fs.Int("pong-ms", 45000, "pong timeout")
	rate := fs.Int64("rate", 5120000, "send and recv rate, bytes/s")
	echo := fs.Bool("echo", true, "echo received messages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	priv, err := privFromSeedHex(*seed)
	if err != nil {
		return err
	}
	var c net.Conn
	if *listen >= 0 {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *listen))
		if err != nil {
			return err
		}
		emitLocked(map[string]any{"event": "listening", "port": ln.Addr().(*net.TCPAddr).Port})
		if c, err = ln.Accept(); err != nil {
			return err
		}
		_ = ln.Close()
	} else if *dial != "" {
		if c, err = net.DialTimeout("tcp", *dial, 3*time.Second); err != nil {
			return err
		}
	} else {
		return errors.New("need -listen-port or -dial")
	}
	sc, err := conn.MakeSecretConnection(c, priv)
	if err != nil {
		emitLocked(map[string]any{"event": "error", "error": err.Error()})
		return nil
	}
	cfg := conn.DefaultMConnConfig()
	cfg.PingInterval = time.Duration(*pingMs) * time.Millisecond
	cfg.PongTimeout = time.Duration(*pongMs) * time.Millisecond
	cfg.SendRate, cfg.RecvRate = *rate, *rate

	var mu sync.Mutex
	counts := map[string]int{}
	bytesIn := map[string]int{}
	type item struct {
		ch  byte
		msg []byte
	}
	echoCh := make(chan item, 10000)
	var mc *conn.MConnection
	onReceive := func(ch byte, msg []byte) {
		cp := append([]byte(nil), msg...)
		mu.Lock()
		counts[fmt.Sprint(ch)]++
		bytesIn[fmt.Sprint(ch)] += len(cp)
		mu.Unlock()
		if *echo {
			echoCh <- item{ch, cp}
		}
	}
	errOnce := sync.Once{}
	onError := func(e error) {
		errOnce.Do(func() { emitLocked(map[string]any{"event": "error", "error": fmt.Sprint(e)}) })
	}
	mc = conn.NewMConnectionWithConfig(sc, benchChannels(), onReceive, onError, cfg)
	if err := mc.Start(); err != nil {
		return err
	}
	go func() {
		for it := range echoCh {
			if !mc.Send(it.ch, it.msg) {
				emitLocked(map[string]any{"event": "send_failed", "ch": it.ch})
			}
		}
	}()
	rp := sc.RemotePubKey()
	emitLocked(map[string]any{"event": "ready", "remote_pub": hex.EncodeToString(rp[:])})
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	for in.Scan() {
		var cmd struct {
			Cmd string `json:"cmd"`
			Ch  byte   `json:"ch"`
			Hex string `json:"hex"`
		}
		if err := json.Unmarshal(in.Bytes(), &cmd); err != nil {
			return err
		}
		switch cmd.Cmd {
		case "send":
			b, _ := hex.DecodeString(cmd.Hex)
			ok := mc.Send(cmd.Ch, b)
			emitLocked(map[string]any{"event": "sent", "ok": ok})
		case "stats":
			mu.Lock()
			emitLocked(map[string]any{"event": "stats", "counts": counts, "bytes": bytesIn, "running": mc.IsRunning()})
			mu.Unlock()
		}
	}
	mc.Stop()
	return nil
}

func runTM2MConnBench(args []string) error {
	fs := flag.NewFlagSet("tm2-mconn-bench", flag.ContinueOnError)
	total := fs.Int("total", 32<<20, "bytes per size")
	sizesArg := fs.String("sizes", "1024,65536", "message sizes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var sizes []int
	for _, s := range splitComma(*sizesArg) {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil {
			return err
		}
		sizes = append(sizes, n)
	}
	results := map[string]any{}
	for _, size := range sizes {
		r, err := mconnBenchOne(size, *total)
		if err != nil {
			return err
		}
		results[fmt.Sprint(size)] = r
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"mconnection": results})
}

func splitComma(s string) []string {
	var out []string
	cur := ""
	for _, r := range s {
		if r == ',' {
			out = append(out, cur)
			cur = ""
		} else {
			cur += string(r)
		}
	}
	return append(out, cur)
}

func mconnBenchOne(size, total int) (map[string]any, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	scCh := make(chan *conn.SecretConnection, 1)
	errCh := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			errCh <- err
			return
		}
		sc, err := conn.MakeSecretConnection(c, ed25519.GenPrivKey())
		if err != nil {
			errCh <- err
			return
		}
		scCh <- sc
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, err
	}
	cli, err := conn.MakeSecretConnection(c, ed25519.GenPrivKey())
	if err != nil {
		return nil, err
	}
	var srv *conn.SecretConnection
	select {
	case srv = <-scCh:
	case err := <-errCh:
		return nil, err
	}
	cfg := conn.DefaultMConnConfig()
	cfg.SendRate, cfg.RecvRate = 1<<40, 1<<40
	count := total / size
	if count < 1 {
		count = 1
	}
	var got int64
	done := make(chan struct{})
	recv := conn.NewMConnectionWithConfig(srv, benchChannels(), func(ch byte, msg []byte) {
		if atomic.AddInt64(&got, 1) == int64(count) {
			close(done)
		}
	}, func(error) {}, cfg)
	send := conn.NewMConnectionWithConfig(cli, benchChannels(), func(byte, []byte) {}, func(error) {}, cfg)
	if err := recv.Start(); err != nil {
		return nil, err
	}
	if err := send.Start(); err != nil {
		return nil, err
	}
	msg := make([]byte, size)
	start := time.Now()
	for i := 0; i < count; i++ {
		if !send.Send(0x10, msg) {
			return nil, errors.New("send failed")
		}
	}
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		return nil, errors.New("bench timed out")
	}
	el := time.Since(start).Seconds()
	send.Stop()
	recv.Stop()
	return map[string]any{"messages": count, "seconds": el, "mb_per_s": float64(count*size) / el / 1e6, "msgs_per_s": float64(count) / el}, nil
}

func init() {
	register("tm2-handshake-bench", "Go<->Go STS + NodeInfo handshakes per second over loopback TCP: -count N", runTM2HandshakeBench)
}

func runTM2HandshakeBench(args []string) error {
	fs := flag.NewFlagSet("tm2-handshake-bench", flag.ContinueOnError)
	count := fs.Int("count", 200, "handshakes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mk := func(secret string) (types.NodeKey, types.NodeInfo, error) {
		nk := types.NodeKey{PrivKey: ed25519.GenPrivKeyFromSecret([]byte(secret))}
		na, err := types.NewNetAddress(nk.ID(), &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 26656})
		if err != nil {
			return nk, types.NodeInfo{}, err
		}
		return nk, types.NodeInfo{NetAddress: na, Network: "b", Channels: []byte{0x77}, Moniker: "m"}, nil
	}
	nkA, niA, err := mk("ha")
	if err != nil {
		return err
	}
	nkB, niB, err := mk("hb")
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	trB := p2p.NewMultiplexTransport(niB, nkB, conn.DefaultMConnConfig(), logger)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	addrB, err := types.NewNetAddress(nkB.ID(), &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: port})
	if err != nil {
		return err
	}
	if err := trB.Listen(*addrB); err != nil {
		return err
	}
	defer trB.Close()
	trA := p2p.NewMultiplexTransport(niA, nkA, conn.DefaultMConnConfig(), logger)
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < *count; i++ {
		accCh := make(chan p2p.PeerConn, 1)
		errCh := make(chan error, 1)
		go func() {
			p, err := trB.Accept(ctx, nopBehavior{})
			if err != nil {
				errCh <- err
				return
			}
			accCh <- p
		}()
		pa, err := trA.Dial(ctx, *addrB, nopBehavior{})
		if err != nil {
			return err
		}
		var pb p2p.PeerConn
		select {
		case pb = <-accCh:
		case err := <-errCh:
			return err
		}
		_ = pa.CloseConn()
		_ = pb.CloseConn()
		trB.Remove(pb)
		trA.Remove(pa)
	}
	el := time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"handshakes_per_s": float64(*count) / el, "count": *count})
}
