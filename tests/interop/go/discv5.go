package main

// discv5: a go-ethereum discover.ListenV5 node driven over stdin/stdout.
//
// args:   -key <hex secret> (random if absent) -addr 127.0.0.1:0 -bootnodes <enr>,...
//         -talk <protocol> (answers TALKREQ on it with "geth:" + request)
//         -nolivecheck (NoFindnodeLivenessCheck)
// stdout: first line {"enr": "enr:...", "id": hex}; then one JSON answer per command.
// stdin:  JSON lines {"cmd": "ping"|"requestENR", "node": "<enr>"},
//         {"cmd": "findnode", "node": "<enr>", "distances": [..]},
//         {"cmd": "talk", "node": "<enr>", "protocol": "...", "request": "<hex>"},
//         {"cmd": "lookup", "target": "<hex node id, optional>"},
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
	register("discv5", "go-ethereum discovery v5 node with JSON-lines control on stdin/stdout", runDiscv5)
}

type discv5Cmd struct {
	Cmd       string  `json:"cmd"`
	Node      string  `json:"node"`
	Target    string  `json:"target"`
	Distances []uint  `json:"distances"`
	Protocol  string  `json:"protocol"`
	Request   string  `json:"request"`
	N         int     `json:"n"`
	Timeout   float64 `json:"timeout"`
}

func runDiscv5(args []string) error {
	fs := flag.NewFlagSet("discv5", flag.ContinueOnError)
	keyHex := fs.String("key", "", "secp256k1 secret (hex); random if empty")
	addr := fs.String("addr", "127.0.0.1:0", "UDP listen address")
	boot := fs.String("bootnodes", "", "comma-separated enr: bootnodes")
	talk := fs.String("talk", "", "TALKREQ protocol to answer")
	noLive := fs.Bool("nolivecheck", false, "NoFindnodeLivenessCheck")
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
	conn, err := net.ListenUDP("udp", udpAddr)
	if err != nil {
		return err
	}
	db, err := enode.OpenDB("")
	if err != nil {
		return err
	}
	ln := enode.NewLocalNode(db, key)
	laddr := conn.LocalAddr().(*net.UDPAddr)
	ln.SetStaticIP(laddr.IP)
	ln.SetFallbackUDP(laddr.Port)
	cfg := discover.Config{PrivateKey: key, Bootnodes: bootnodes, NoFindnodeLivenessCheck: *noLive}
	disc, err := discover.ListenV5(conn, ln, cfg)
	if err != nil {
		return err
	}
	defer disc.Close()
	if *talk != "" {
		disc.RegisterTalkHandler(*talk, func(_ *enode.Node, _ *net.UDPAddr, req []byte) []byte {
			return append([]byte("geth:"), req...)
		})
	}

	out := json.NewEncoder(os.Stdout)
	self := disc.Self()
	if err := out.Encode(map[string]any{"enr": self.String(), "id": self.ID().String()}); err != nil {
		return err
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		var c discv5Cmd
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			_ = out.Encode(map[string]any{"error": err.Error()})
			continue
		}
		ans, err := discv5Do(disc, c)
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

func discv5Do(disc *discover.UDPv5, c discv5Cmd) (map[string]any, error) {
	var n *enode.Node
	if c.Node != "" {
		var err error
		if n, err = enode.Parse(enode.ValidSchemes, c.Node); err != nil {
			return nil, err
		}
	}
	switch c.Cmd {
	case "self":
		return map[string]any{"enr": disc.Self().String()}, nil
	case "ping":
		pong, err := disc.Ping(n)
		if err != nil {
			return nil, err
		}
		return map[string]any{"enr_seq": pong.ENRSeq, "ip": net.IP(pong.ToIP).String(), "port": pong.ToPort}, nil
	case "requestENR":
		rn, err := disc.RequestENR(n)
		if err != nil {
			return nil, err
		}
		return map[string]any{"enr": rn.String(), "seq": rn.Seq(), "id": rn.ID().String()}, nil
	case "findnode":
		ns, err := disc.Findnode(n, c.Distances)
		if err != nil {
			return nil, err
		}
		return map[string]any{"nodes": nodeTexts(ns)}, nil
	case "talk":
		req, err := hex.DecodeString(c.Request)
		if err != nil {
			return nil, err
		}
		resp, err := disc.TalkRequest(n, c.Protocol, req)
		if err != nil {
			return nil, err
		}
		return map[string]any{"response": hex.EncodeToString(resp)}, nil
	case "lookup":
		var target enode.ID
		if c.Target != "" {
			raw, err := hex.DecodeString(c.Target)
			if err != nil || len(raw) != 32 {
				return nil, errors.New("target must be 32 bytes hex")
			}
			copy(target[:], raw)
		} else {
			k, _ := crypto.GenerateKey()
			target = enode.PubkeyToIDV4(&k.PublicKey)
		}
		return map[string]any{"nodes": nodeTexts(disc.Lookup(target))}, nil
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
		return map[string]any{"nodes": nodeTexts(disc.AllNodes())}, nil
	}
	return nil, errors.New("unknown command " + c.Cmd)
}
