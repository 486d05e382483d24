package main

// tm2conn: gno's TM2 connection stack as a peer and as a vector oracle.
//
//   tm2-vectors     stdin JSON {deterministic_handshake:{...}, msgs:[...], node_infos:[...], pex:[...], decode_node_infos:[hex...]}
//                   -> stdout JSON with the bytes gno produces (see runTM2Vectors)
//   tm2-sc          a gno MakeSecretConnection peer that echoes every byte (-listen or -dial)
//   tm2-transport   a gno MultiplexTransport peer (-listen or -dial) that reports the remote NodeInfo
//   tm2-sc-bench    Go<->Go SecretConnection throughput over loopback TCP, JSON result
//
// Control lines on stdout are JSON objects with an "event" key.

import (
	"bufio"
	"bytes"
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
	"time"

	crand "crypto/rand"

	"github.com/gnolang/gno/tm2/pkg/amino"
	"github.com/gnolang/gno/tm2/pkg/crypto/ed25519"
	"github.com/gnolang/gno/tm2/pkg/p2p"
	"github.com/gnolang/gno/tm2/pkg/p2p/conn"
	"github.com/gnolang/gno/tm2/pkg/p2p/discovery"
	"github.com/gnolang/gno/tm2/pkg/p2p/types"
	"github.com/gnolang/gno/tm2/pkg/versionset"
	stded25519 "golang.org/x/crypto/ed25519"
)

func init() {
	register("tm2-vectors", "gno's bytes for TM2 handshake/packet/NodeInfo/discovery inputs on stdin (JSON)", runTM2Vectors)
	register("tm2-sc", "gno MakeSecretConnection echo peer: -listen 127.0.0.1:0 | -dial host:port, -seed hex", runTM2SC)
	register("tm2-transport", "gno MultiplexTransport peer: -listen/-dial, reports the remote NodeInfo", runTM2Transport)
	register("tm2-sc-bench", "Go<->Go gno SecretConnection throughput: -sizes 1024,65536 -total bytes", runTM2SCBench)
}

func privFromSeedHex(h string) (ed25519.PrivKeyEd25519, error) {
	var priv ed25519.PrivKeyEd25519
	seed, err := hex.DecodeString(h)
	if err != nil || len(seed) != 32 {
		return priv, fmt.Errorf("seed must be 32 hex bytes")
	}
	copy(priv[:], stded25519.NewKeyFromSeed(seed))
	return priv, nil
}

// ------------------------------------------------------------------ vectors

type niFields struct {
	VersionSet []struct {
		Name     string `json:"name"`
		Version  string `json:"version"`
		Optional bool   `json:"optional"`
	} `json:"version_set"`
	NetAddress string `json:"net_address"`
	Network    string `json:"network"`
	Software   string `json:"software"`
	Version    string `json:"version"`
	Channels   string `json:"channels"`
	Moniker    string `json:"moniker"`
	Other      struct {
		TxIndex    string `json:"tx_index"`
		RPCAddress string `json:"rpc_address"`
	} `json:"other"`
}

func (f niFields) toNodeInfo() (types.NodeInfo, error) {
	na, err := types.NewNetAddressFromString(f.NetAddress)
	if err != nil {
		return types.NodeInfo{}, err
	}
	ch, err := hex.DecodeString(f.Channels)
	if err != nil {
		return types.NodeInfo{}, err
	}
	vs := versionset.VersionSet{}
	for _, v := range f.VersionSet {
		vs = append(vs, versionset.VersionInfo{Name: v.Name, Version: v.Version, Optional: v.Optional})
	}
	return types.NodeInfo{
		VersionSet: vs, NetAddress: na, Network: f.Network, Software: f.Software, Version: f.Version,
		Channels: ch, Moniker: f.Moniker,
		Other: types.NodeInfoOther{TxIndex: f.Other.TxIndex, RPCAddress: f.Other.RPCAddress},
	}, nil
}

type vectorsIn struct {
	Handshake *struct {
		SeedA string `json:"seed_a"`
		SeedB string `json:"seed_b"`
		EphA  string `json:"eph_a"`
		EphB  string `json:"eph_b"`
		Ping  string `json:"after_handshake_a_writes"`
	} `json:"handshake"`
	Msgs []struct {
		ChannelID uint8  `json:"channel_id"`
		EOF       uint8  `json:"eof"`
		Bytes     string `json:"bytes"`
	} `json:"msgs"`
	NodeInfos   []niFields    `json:"node_infos"`
	PexRequests int           `json:"pex_requests"`
	PexResps    [][]string    `json:"pex_responses"`
	DecodeNI    []string      `json:"decode_node_infos"`
	Compat      [][2]niFields `json:"compat"`
}

// recConn records every byte written through it.
type recConn struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (r *recConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.out.Write(p)
	r.mu.Unlock()
	return r.Conn.Write(p)
}

// scriptedRand hands out the given ephemeral secrets in order, then signals.
type scriptedRand struct {
	mu    sync.Mutex
	keys  [][]byte
	taken chan struct{}
}

func (s *scriptedRand) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.keys) == 0 {
		return 0, errors.New("scriptedRand exhausted")
	}
	k := s.keys[0]
	s.keys = s.keys[1:]
	n := copy(p, k)
	s.taken <- struct{}{}
	return n, nil
}

func deterministicHandshake(seedA, seedB, ephA, ephB, after string) (map[string]any, error) {
	privA, err := privFromSeedHex(seedA)
	if err != nil {
		return nil, err
	}
	privB, err := privFromSeedHex(seedB)
	if err != nil {
		return nil, err
	}
	ea, _ := hex.DecodeString(ephA)
	eb, _ := hex.DecodeString(ephB)
	afterBytes, _ := hex.DecodeString(after)
	sr := &scriptedRand{keys: [][]byte{ea, eb}, taken: make(chan struct{}, 2)}
	saved := crand.Reader
	crand.Reader = sr
	defer func() { crand.Reader = saved }()

	pa, pb := conn.NetPipe()
	ra, rb := &recConn{Conn: pa}, &recConn{Conn: pb}
	type res struct {
		sc  *conn.SecretConnection
		err error
	}
	chA, chB := make(chan res, 1), make(chan res, 1)
	go func() { sc, err := conn.MakeSecretConnection(ra, privA); chA <- res{sc, err} }()
	<-sr.taken // A has drawn its ephemeral key; B draws the next one
	go func() { sc, err := conn.MakeSecretConnection(rb, privB); chB <- res{sc, err} }()
	<-sr.taken
	a, b := <-chA, <-chB
	if a.err != nil || b.err != nil {
		return nil, fmt.Errorf("handshake: %v / %v", a.err, b.err)
	}
	done := make(chan []byte, 1)
	go func() {
		buf := make([]byte, len(afterBytes))
		_, _ = io.ReadFull(b.sc, buf)
		done <- buf
	}()
	if _, err := a.sc.Write(afterBytes); err != nil {
		return nil, err
	}
	got := <-done
	ra.mu.Lock()
	wa := append([]byte(nil), ra.out.Bytes()...)
	ra.mu.Unlock()
	rb.mu.Lock()
	wb := append([]byte(nil), rb.out.Bytes()...)
	rb.mu.Unlock()
	rpa := a.sc.RemotePubKey()
	rpb := b.sc.RemotePubKey()
	return map[string]any{
		"a_wire":       hex.EncodeToString(wa),
		"b_wire":       hex.EncodeToString(wb),
		"a_remote_pub": hex.EncodeToString(rpa[:]),
		"b_remote_pub": hex.EncodeToString(rpb[:]),
		"b_read_after": hex.EncodeToString(got),
	}, nil
}

func runTM2Vectors(_ []string) error {
	var in vectorsIn
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		return err
	}
	out := map[string]any{}
	if h := in.Handshake; h != nil {
		r, err := deterministicHandshake(h.SeedA, h.SeedB, h.EphA, h.EphB, h.Ping)
		if err != nil {
			return err
		}
		out["handshake"] = r
	}
	ping, _ := amino.MarshalAnySized(conn.PacketPing{})
	pong, _ := amino.MarshalAnySized(conn.PacketPong{})
	out["ping"] = hex.EncodeToString(ping)
	out["pong"] = hex.EncodeToString(pong)
	msgs := []string{}
	for _, m := range in.Msgs {
		b, _ := hex.DecodeString(m.Bytes)
		enc, err := amino.MarshalAnySized(conn.PacketMsg{ChannelID: m.ChannelID, EOF: m.EOF, Bytes: b})
		if err != nil {
			return err
		}
		msgs = append(msgs, hex.EncodeToString(enc))
	}
	out["msgs"] = msgs
	nis := []map[string]any{}
	for _, f := range in.NodeInfos {
		ni, err := f.toNodeInfo()
		if err != nil {
			return err
		}
		enc, err := amino.MarshalSized(&ni)
		if err != nil {
			return err
		}
		verr := ""
		if err := ni.Validate(); err != nil {
			verr = err.Error()
		}
		nis = append(nis, map[string]any{"sized": hex.EncodeToString(enc), "validate_error": verr})
	}
	out["node_infos"] = nis
	dec := []map[string]any{}
	for _, h := range in.DecodeNI {
		raw, _ := hex.DecodeString(h)
		var ni types.NodeInfo
		_, err := amino.UnmarshalSizedReader(bytes.NewReader(raw), &ni, types.MaxNodeInfoSize)
		if err != nil {
			dec = append(dec, map[string]any{"error": err.Error()})
			continue
		}
		dec = append(dec, map[string]any{"moniker": ni.Moniker, "net_address": ni.NetAddress.String(), "network": ni.Network, "channels": hex.EncodeToString(ni.Channels), "version_set_len": len(ni.VersionSet)})
	}
	out["decoded_node_infos"] = dec
	compat := []string{}
	for _, pair := range in.Compat {
		a, err := pair[0].toNodeInfo()
		if err != nil {
			return err
		}
		b, err := pair[1].toNodeInfo()
		if err != nil {
			return err
		}
		if err := a.CompatibleWith(b); err != nil {
			compat = append(compat, err.Error())
		} else {
			compat = append(compat, "")
		}
	}
	out["compat"] = compat
	req, _ := amino.MarshalAny(&discovery.Request{})
	out["pex_request"] = hex.EncodeToString(req)
	resps := []string{}
	for _, peers := range in.PexResps {
		r := &discovery.Response{}
		for _, p := range peers {
			na, err := types.NewNetAddressFromString(p)
			if err != nil {
				return err
			}
			r.Peers = append(r.Peers, na)
		}
		enc, err := amino.MarshalAny(r)
		if err != nil {
			return err
		}
		resps = append(resps, hex.EncodeToString(enc))
	}
	out["pex_responses"] = resps
	return json.NewEncoder(os.Stdout).Encode(out)
}

// ------------------------------------------------------- secret connection

func runTM2SC(args []string) error {
	fs := flag.NewFlagSet("tm2-sc", flag.ContinueOnError)
	listen := fs.String("listen", "", "listen address")
	dial := fs.String("dial", "", "dial address")
	seed := fs.String("seed", "", "ed25519 seed hex (random if empty)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var priv ed25519.PrivKeyEd25519
	if *seed == "" {
		priv = ed25519.GenPrivKey()
	} else {
		var err error
		if priv, err = privFromSeedHex(*seed); err != nil {
			return err
		}
	}
	var c net.Conn
	switch {
	case *listen != "":
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return err
		}
		emit(map[string]any{"event": "listening", "port": ln.Addr().(*net.TCPAddr).Port})
		c, err = ln.Accept()
		if err != nil {
			return err
		}
		_ = ln.Close()
	case *dial != "":
		var err error
		if c, err = net.DialTimeout("tcp", *dial, 3*time.Second); err != nil {
			return err
		}
	default:
		return errors.New("need -listen or -dial")
	}
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	sc, err := conn.MakeSecretConnection(c, priv)
	if err != nil {
		emit(map[string]any{"event": "error", "error": err.Error()})
		_ = c.Close()
		return nil
	}
	_ = c.SetDeadline(time.Time{})
	rp := sc.RemotePubKey()
	emit(map[string]any{"event": "ready", "remote_pub": hex.EncodeToString(rp[:])})
	n, err := io.Copy(sc, sc)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	emit(map[string]any{"event": "done", "bytes": n, "error": msg})
	return sc.Close()
}

// ---------------------------------------------------------------- transport

type nopBehavior struct{}

func (nopBehavior) ReactorChDescriptors() []*conn.ChannelDescriptor {
	return []*conn.ChannelDescriptor{{ID: 0x77, Priority: 1}}
}
func (nopBehavior) Reactors() map[byte]p2p.Reactor      { return map[byte]p2p.Reactor{} }
func (nopBehavior) HandlePeerError(p2p.PeerConn, error) {}
func (nopBehavior) IsPersistentPeer(types.ID) bool      { return false }
func (nopBehavior) IsPrivatePeer(types.ID) bool         { return false }

func nodeInfoJSON(ni types.NodeInfo) map[string]any {
	vs := []map[string]any{}
	for _, v := range ni.VersionSet {
		vs = append(vs, map[string]any{"name": v.Name, "version": v.Version, "optional": v.Optional})
	}
	return map[string]any{
		"version_set": vs, "net_address": ni.NetAddress.String(), "network": ni.Network,
		"software": ni.Software, "version": ni.Version, "channels": hex.EncodeToString(ni.Channels),
		"moniker": ni.Moniker, "other": map[string]any{"tx_index": ni.Other.TxIndex, "rpc_address": ni.Other.RPCAddress},
	}
}

func runTM2Transport(args []string) error {
	fs := flag.NewFlagSet("tm2-transport", flag.ContinueOnError)
	listen := fs.Int("listen-port", -1, "listen on 127.0.0.1:<port> (0 = pick)")
	dial := fs.String("dial", "", "dial id@host:port")
	seed := fs.String("seed", "", "ed25519 seed hex")
	network := fs.String("network", "interop", "network")
	channels := fs.String("channels", "77", "channels hex")
	gnoland := fs.Bool("gnoland", false, "advertise the five-entry version set of a gnoland node")
	moniker := fs.String("moniker", "go-peer", "moniker")
	if err := fs.Parse(args); err != nil {
		return err
	}
	priv, err := privFromSeedHex(*seed)
	if err != nil {
		return err
	}
	nk := types.NodeKey{PrivKey: priv}
	port := 26656
	var ln net.Listener
	if *listen >= 0 {
		// Pick the port first so the NodeInfo advertises the real one.
		if ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *listen)); err != nil {
			return err
		}
		port = ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
	}
	na, err := types.NewNetAddress(nk.ID(), &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: port})
	if err != nil {
		return err
	}
	ch, _ := hex.DecodeString(*channels)
	vs := versionset.VersionSet{}
	if *gnoland {
		for _, n := range []string{"abci", "app", "bft", "blockchain", "p2p"} {
			v := "v1.0.0-rc.0"
			if n == "app" {
				v = "dev"
			}
			vs = append(vs, versionset.VersionInfo{Name: n, Version: v})
		}
	}
	ni := types.NodeInfo{VersionSet: vs, NetAddress: na, Network: *network, Version: "v1.0.0-rc.0",
		Channels: ch, Moniker: *moniker, Other: types.NodeInfoOther{TxIndex: "off", RPCAddress: "tcp://127.0.0.1:26657"}}
	if err := ni.Validate(); err != nil {
		return err
	}
	tr := p2p.NewMultiplexTransport(ni, nk, conn.DefaultMConnConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var peer p2p.PeerConn
	if *listen >= 0 {
		if err := tr.Listen(*na); err != nil {
			return err
		}
		emit(map[string]any{"event": "listening", "addr": na.String()})
		peer, err = tr.Accept(ctx, nopBehavior{})
	} else {
		addr, perr := types.NewNetAddressFromString(*dial)
		if perr != nil {
			return perr
		}
		emit(map[string]any{"event": "dialing", "addr": na.String()})
		peer, err = tr.Dial(ctx, *addr, nopBehavior{})
	}
	if err != nil {
		emit(map[string]any{"event": "error", "error": err.Error()})
		return nil
	}
	emit(map[string]any{"event": "peer", "id": string(peer.ID()), "node_info": nodeInfoJSON(peer.NodeInfo())})
	// Hold the connection until stdin closes.
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	tr.Remove(peer)
	return peer.CloseConn()
}

// -------------------------------------------------------------------- bench

func runTM2SCBench(args []string) error {
	fs := flag.NewFlagSet("tm2-sc-bench", flag.ContinueOnError)
	total := fs.Int("total", 64<<20, "bytes per size")
	sizesArg := fs.String("sizes", "1024,65536,1048576", "message sizes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var sizes []int
	for _, s := range bytes.Split([]byte(*sizesArg), []byte(",")) {
		var n int
		if _, err := fmt.Sscan(string(s), &n); err != nil {
			return err
		}
		sizes = append(sizes, n)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	results := map[string]any{}
	for _, size := range sizes {
		srvCh := make(chan *conn.SecretConnection, 1)
		errCh := make(chan error, 2)
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
			srvCh <- sc
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		cli, err := conn.MakeSecretConnection(c, ed25519.GenPrivKey())
		if err != nil {
			return err
		}
		var srv *conn.SecretConnection
		select {
		case srv = <-srvCh:
		case err := <-errCh:
			return err
		}
		count := *total / size
		if count < 1 {
			count = 1
		}
		msg := make([]byte, size)
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			buf := make([]byte, 64*1024)
			want := count * size
			for want > 0 {
				n, err := srv.Read(buf)
				if err != nil {
					done <- err
					return
				}
				want -= n
			}
			done <- nil
		}()
		for i := 0; i < count; i++ {
			if _, err := cli.Write(msg); err != nil {
				return err
			}
		}
		if err := <-done; err != nil {
			return err
		}
		el := time.Since(start).Seconds()
		results[fmt.Sprint(size)] = map[string]any{"messages": count, "seconds": el, "mb_per_s": float64(count*size) / el / 1e6, "msgs_per_s": float64(count) / el}
		_ = cli.Close()
		_ = srv.Close()
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"secret_connection": results})
}
