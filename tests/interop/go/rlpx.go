package main

// rlpx: go-ethereum's p2p/rlpx.Conn as a peer and as an oracle.
//
// rlpx-frames   stdin: {"aes": hex, "mac": hex, "a_egress_seed": hex, "a_ingress_seed": hex,
//                       "frames": [{"direction": "A->B"|"B->A", "code": n, "payload": hex, "snappy": bool}]}
//               stdout: {"frames": [hex, ...]}  (each frame as rlpx.Conn.Write puts it on the wire,
//               after rlpx.Conn.InitWithSecrets; every frame is also read back by the other Conn)
// rlpx-peer     --listen | --dial host:port --remote <pubkey hex>  [--key <hex>]
//               Prints {"port": n, "pubkey": hex} (listen) or {"pubkey": hex} (dial) on stdout,
//               runs the handshake, prints {"event": "connected", "remote": hex}, then echoes every
//               message. Control codes (see ctl* below) switch snappy and report a running SHA-256
//               over every received code||payload, so both sides check every byte.
// rlpx-bench    Go<->Go over 127.0.0.1 TCP: prints one JSON object with MB/s and msgs/s per size
//               and handshakes/s.

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/keccak"
	"github.com/ethereum/go-ethereum/p2p/rlpx"
)

const (
	// ctlSnappy: echo this message uncompressed, then SetSnappy(true).
	ctlSnappy = 0x7ff0
	// ctlDigest: reply (same code) with sha256 over every code(8 bytes BE)||payload received so far
	// (control messages excluded), then keep going.
	ctlDigest = 0x7ff1
	// ctlBye: close the connection and exit 0.
	ctlBye = 0x7ff2
)

func init() {
	register("rlpx-frames", "frames written by rlpx.Conn after InitWithSecrets (JSON on stdin)", runRlpxFrames)
	register("rlpx-peer", "a geth rlpx.Conn peer that listens or dials, echoes and verifies messages", runRlpxPeer)
	register("rlpx-bench", "Go<->Go rlpx.Conn benchmark over loopback TCP (JSON on stdout)", runRlpxBench)
}

// memConn is a net.Conn over an in-memory buffer: writes append, reads consume.
type memConn struct {
	buf []byte
}

func (m *memConn) Read(p []byte) (int, error) {
	if len(m.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, m.buf)
	m.buf = m.buf[n:]
	return n, nil
}
func (m *memConn) Write(p []byte) (int, error)        { m.buf = append(m.buf, p...); return len(p), nil }
func (m *memConn) Close() error                       { return nil }
func (m *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (m *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (m *memConn) SetDeadline(t time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(t time.Time) error { return nil }

type frameIn struct {
	Direction string `json:"direction"`
	Code      uint64 `json:"code"`
	Payload   string `json:"payload"`
	Snappy    bool   `json:"snappy"`
}

type framesIn struct {
	AES          string    `json:"aes"`
	MAC          string    `json:"mac"`
	AEgressSeed  string    `json:"a_egress_seed"`
	AIngressSeed string    `json:"a_ingress_seed"`
	Frames       []frameIn `json:"frames"`
}

func seeded(h string) (hash.Hash, error) {
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, err
	}
	k := keccak.NewLegacyKeccak256()
	k.Write(b)
	return k, nil
}

func runRlpxFrames(_ []string) error {
	var in framesIn
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		return err
	}
	aes, err := hex.DecodeString(in.AES)
	if err != nil {
		return err
	}
	mac, err := hex.DecodeString(in.MAC)
	if err != nil {
		return err
	}
	mk := func(egress, ingress string) (*rlpx.Conn, *memConn, error) {
		e, err := seeded(egress)
		if err != nil {
			return nil, nil, err
		}
		i, err := seeded(ingress)
		if err != nil {
			return nil, nil, err
		}
		mc := &memConn{}
		c := rlpx.NewConn(mc, nil)
		c.InitWithSecrets(rlpx.Secrets{AES: aes, MAC: mac, EgressMAC: e, IngressMAC: i})
		return c, mc, nil
	}
	a, amem, err := mk(in.AEgressSeed, in.AIngressSeed)
	if err != nil {
		return err
	}
	b, bmem, err := mk(in.AIngressSeed, in.AEgressSeed)
	if err != nil {
		return err
	}
	out := struct {
		Frames []string `json:"frames"`
	}{Frames: []string{}}
	for _, f := range in.Frames {
		payload, err := hex.DecodeString(f.Payload)
		if err != nil {
			return err
		}
		tx, txmem, rx, rxmem := a, amem, b, bmem
		if f.Direction == "B->A" {
			tx, txmem, rx, rxmem = b, bmem, a, amem
		}
		tx.SetSnappy(f.Snappy)
		rx.SetSnappy(f.Snappy)
		if _, err := tx.Write(f.Code, payload); err != nil {
			return err
		}
		wire := append([]byte(nil), txmem.buf...)
		txmem.buf = nil
		out.Frames = append(out.Frames, hex.EncodeToString(wire))
		rxmem.buf = append(rxmem.buf, wire...)
		code, data, _, err := rx.Read()
		if err != nil {
			return fmt.Errorf("reading back frame: %w", err)
		}
		if code != f.Code || hex.EncodeToString(data) != f.Payload {
			return fmt.Errorf("frame read back as code %d payload %x", code, data)
		}
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func runRlpxPeer(args []string) error {
	fs := flag.NewFlagSet("rlpx-peer", flag.ContinueOnError)
	listen := fs.Bool("listen", false, "listen on 127.0.0.1:0 for one connection")
	dial := fs.String("dial", "", "host:port to dial")
	remoteHex := fs.String("remote", "", "remote public key (64-byte hex) when dialling")
	keyHex := fs.String("key", "", "own private key hex (random if empty)")
	timeout := fs.Duration("timeout", 120*time.Second, "overall deadline")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var key *ecdsa.PrivateKey
	var err error
	if *keyHex != "" {
		key, err = crypto.HexToECDSA(*keyHex)
	} else {
		key, err = crypto.GenerateKey()
	}
	if err != nil {
		return err
	}
	pub := hex.EncodeToString(crypto.FromECDSAPub(&key.PublicKey)[1:])

	var fd net.Conn
	var remote *ecdsa.PublicKey
	switch {
	case *listen:
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		emit(map[string]any{"port": ln.Addr().(*net.TCPAddr).Port, "pubkey": pub})
		fd, err = ln.Accept()
		ln.Close()
		if err != nil {
			return err
		}
	case *dial != "":
		rb, err := hex.DecodeString(*remoteHex)
		if err != nil {
			return err
		}
		remote, err = crypto.UnmarshalPubkey(append([]byte{4}, rb...))
		if err != nil {
			return err
		}
		emit(map[string]any{"pubkey": pub})
		fd, err = net.DialTimeout("tcp", *dial, 5*time.Second)
		if err != nil {
			return err
		}
	default:
		return errors.New("need --listen or --dial")
	}
	defer fd.Close()
	fd.SetDeadline(time.Now().Add(*timeout))
	conn := rlpx.NewConn(fd, remote)
	rpub, err := conn.Handshake(key)
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	emit(map[string]any{"event": "connected", "remote": hex.EncodeToString(crypto.FromECDSAPub(rpub)[1:])})

	digest := sha256.New()
	count := 0
	for {
		code, data, _, err := conn.Read()
		if err != nil {
			return fmt.Errorf("read after %d messages: %w", count, err)
		}
		switch code {
		case ctlSnappy:
			if _, err := conn.Write(code, data); err != nil {
				return err
			}
			conn.SetSnappy(true)
		case ctlDigest:
			if _, err := conn.Write(code, digest.Sum(nil)); err != nil {
				return err
			}
		case ctlBye:
			emit(map[string]any{"event": "bye", "messages": count})
			return nil
		default:
			var cb [8]byte
			binary.BigEndian.PutUint64(cb[:], code)
			digest.Write(cb[:])
			digest.Write(data)
			count++
			if _, err := conn.Write(code, data); err != nil {
				return fmt.Errorf("echo %d: %w", count, err)
			}
		}
	}
}

// ------------------------------------------------------------------ bench

type benchSize struct {
	Size     int     `json:"size"`
	Messages int     `json:"messages"`
	Seconds  float64 `json:"seconds"`
	MBps     float64 `json:"mb_per_s"`
	MsgsPs   float64 `json:"msgs_per_s"`
}

func tcpPair() (*rlpx.Conn, *rlpx.Conn, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	ka, _ := crypto.GenerateKey()
	kb, _ := crypto.GenerateKey()
	var srv *rlpx.Conn
	var srvErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		fd, err := ln.Accept()
		if err != nil {
			srvErr = err
			return
		}
		srv = rlpx.NewConn(fd, nil)
		_, srvErr = srv.Handshake(kb)
	}()
	fd, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	cli := rlpx.NewConn(fd, &kb.PublicKey)
	if _, err := cli.Handshake(ka); err != nil {
		return nil, nil, err
	}
	wg.Wait()
	return cli, srv, srvErr
}

func runRlpxBench(args []string) error {
	fs := flag.NewFlagSet("rlpx-bench", flag.ContinueOnError)
	seconds := fs.Float64("seconds", 1.0, "target seconds per size")
	handshakes := fs.Int("handshakes", 200, "handshakes to time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	out := struct {
		Sizes          []benchSize `json:"sizes"`
		Handshakes     int         `json:"handshakes"`
		HandshakesPs   float64     `json:"handshakes_per_s"`
		Implementation string      `json:"implementation"`
	}{Implementation: "go-ethereum p2p/rlpx.Conn"}
	for _, size := range []int{1024, 16 * 1024, 1024 * 1024} {
		a, b, err := tcpPair()
		if err != nil {
			return err
		}
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		n := int(*seconds * 200e6 / float64(size))
		if n < 20 {
			n = 20
		}
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			for i := 0; i < n; i++ {
				if _, err := a.Write(1, payload); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for i := 0; i < n; i++ {
			if _, _, _, err := b.Read(); err != nil {
				return err
			}
		}
		el := time.Since(start).Seconds()
		if err := <-done; err != nil {
			return err
		}
		a.Close()
		b.Close()
		out.Sizes = append(out.Sizes, benchSize{
			Size: size, Messages: n, Seconds: el,
			MBps: float64(n*size) / el / 1e6, MsgsPs: float64(n) / el,
		})
	}
	start := time.Now()
	for i := 0; i < *handshakes; i++ {
		a, b, err := tcpPair()
		if err != nil {
			return err
		}
		a.Close()
		b.Close()
	}
	out.Handshakes = *handshakes
	out.HandshakesPs = float64(*handshakes) / time.Since(start).Seconds()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	return json.NewEncoder(w).Encode(out)
}
