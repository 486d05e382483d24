package main

// discv4: a go-ethereum discover.ListenV4 node driven over stdin/stdout.
//
// args:   -key <hex secret> (random if absent) -addr 127.0.0.1:0 -bootnodes <enr|enode>,...
// stdout: first line {"enode": url, "enr": "enr:...", "id": hex}; then one JSON answer per command.
// stdin:  JSON lines {"cmd": "ping"|"requestENR", "node": "<enr|enode>"},
//         {"cmd": "lookup", "target": "<hex pubkey64, optional>"},
//         {"cmd": "randomNodes", "n": N, "timeout": seconds},
//         {"cmd": "table"}, {"cmd": "self"}.
// answers: {"ok": true, ...} or {"error": "..."}; node lists are "enr:" texts.

import (
	"bufio"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/discover"
	"github.com/ethereum/go-ethereum/p2p/enode"
)

func init() {
	register("discv4", "go-ethereum discovery v4 node with JSON-lines control on stdin/stdout", runDiscv4)
}

type discv4Cmd struct {
	Cmd     string  `json:"cmd"`
	Node    string  `json:"node"`
	Target  string  `json:"target"`
	N       int     `json:"n"`
	Timeout float64 `json:"timeout"`
}

func nodeTexts(ns []*enode.Node) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.String())
	}
	return out
}

func runDiscv4(args []string) error {
	fs := flag.NewFlagSet("discv4", flag.ContinueOnError)
	keyHex := fs.String("key", "", "secp256k1 secret (hex); random if empty")
	addr := fs.String("addr", "127.0.0.1:0", "UDP listen address")
	boot := fs.String("bootnodes", "", "comma-separated enr:/enode:// bootnodes")
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
	var bootnodes []*enode.Node
	for _, s := range strings.Split(*boot, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := enode.Parse(enode.ValidSchemes, s)
		if err != nil {
			return fmt.Errorf("bootnode %q: %w", s, err)
		}
		bootnodes = append(bootnodes, n)
	}
	udpAddr, err := net.ResolveUDPAddr("udp", *addr)
	if err != nil {
		return err
	}
	disc, err := listenDiscv4(key, udpAddr, bootnodes)
	if err != nil {
		return err
	}
	defer disc.Close()

	out := json.NewEncoder(os.Stdout)
	self := disc.Self()
	if err := out.Encode(map[string]any{"enode": self.URLv4(), "enr": self.String(), "id": self.ID().String()}); err != nil {
		return err
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		var c discv4Cmd
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			_ = out.Encode(map[string]any{"error": err.Error()})
			continue
		}
		ans, err := discv4Do(disc, c)
		if err != nil {
			ans = map[string]any{"error": err.Error()}
		} else {
			ans["ok"] = true
		}
		if err := out.Encode(ans); err != nil {
			return err
		}
	}
	return in.Err()
}

// listenDiscv4 starts a geth discv4 node on addr with an in-memory node DB;
// its record carries the bound IP and UDP port.
func listenDiscv4(key *ecdsa.PrivateKey, addr *net.UDPAddr, boot []*enode.Node) (*discover.UDPv4, error) {
	conn, err := net.ListenUDP("udp", addr)
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
	return discover.ListenV4(conn, ln, discover.Config{PrivateKey: key, Bootnodes: boot})
}

func discv4Do(disc *discover.UDPv4, c discv4Cmd) (map[string]any, error) {
	switch c.Cmd {
	case "self":
		return map[string]any{"enr": disc.Self().String()}, nil
	case "ping":
		n, err := enode.Parse(enode.ValidSchemes, c.Node)
		if err != nil {
			return nil, err
		}
		pong, err := disc.Ping(n)
		if err != nil {
			return nil, err
		}
		return map[string]any{"enr_seq": pong.ENRSeq}, nil
	case "requestENR":
		n, err := enode.Parse(enode.ValidSchemes, c.Node)
		if err != nil {
			return nil, err
		}
		rn, err := disc.RequestENR(n)
		if err != nil {
			return nil, err
		}
		return map[string]any{"enr": rn.String(), "seq": rn.Seq(), "id": rn.ID().String()}, nil
	case "lookup":
		var target *ecdsa.PublicKey
		if c.Target != "" {
			raw, err := hex.DecodeString(c.Target)
			if err != nil {
				return nil, err
			}
			target, err = crypto.UnmarshalPubkey(append([]byte{4}, raw...))
			if err != nil {
				return nil, err
			}
		} else {
			k, _ := crypto.GenerateKey()
			target = &k.PublicKey
		}
		return map[string]any{"nodes": nodeTexts(disc.LookupPubkey(target))}, nil
	case "randomNodes":
		timeout := time.Duration(c.Timeout * float64(time.Second))
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		it := disc.RandomNodes()
		timer := time.AfterFunc(timeout, it.Close)
		defer timer.Stop()
		var got []*enode.Node
		for len(got) < c.N && it.Next() {
			got = append(got, it.Node())
		}
		it.Close()
		return map[string]any{"nodes": nodeTexts(got)}, nil
	case "table":
		var ns []*enode.Node
		for _, b := range disc.TableBuckets() {
			for _, bn := range b {
				ns = append(ns, bn.Node)
			}
		}
		return map[string]any{"nodes": nodeTexts(ns)}, nil
	}
	return nil, errors.New("unknown command " + c.Cmd)
}
