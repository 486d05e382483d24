package main

// p2pserver-disc: a go-ethereum p2p.Server WITH discovery v4 (Config.DiscoveryV4), for the
// test that a peerwire Server finds and connects to go-ethereum servers through discovery.
//
// args:   -key <hex secret> (random if empty) -name <client name> -maxpeers N
//         -bootnodes <enode|enr>,... -nodial (run discovery and accept, but never dial)
//         -protos "echo/1/2" (each protocol is name/version/length and echoes what it receives)
// stdout: JSON lines. First {"event":"ready","enode":...,"enr":...,"id":hex,"tcp":N,"udp":N};
//         then {"event":"add"|"drop","peer":id,"error":...,"remote":addr} from the event feed,
//         and one reply per command.
// stdin:  JSON lines {"cmd": "peers"} -> {"event":"peers","peers":[{"id","name","inbound"}]};
//         {"cmd": "table"} -> {"event":"table","nodes":[id,...]} (the discv4 table).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/p2p/enode"
)

func init() {
	register("p2pserver-disc", "go-ethereum p2p.Server with discovery v4 and bootnodes, JSON lines", runP2PServerDisc)
}

func echoProtocols(specs string) ([]p2p.Protocol, error) {
	var protocols []p2p.Protocol
	if specs == "" {
		return nil, nil
	}
	for _, spec := range strings.Split(specs, ",") {
		parts := strings.Split(spec, "/")
		if len(parts) != 3 {
			return nil, fmt.Errorf("bad protocol spec %q", spec)
		}
		version, _ := strconv.Atoi(parts[1])
		length, _ := strconv.Atoi(parts[2])
		protocols = append(protocols, p2p.Protocol{
			Name:    parts[0],
			Version: uint(version),
			Length:  uint64(length),
			Run: func(peer *p2p.Peer, rw p2p.MsgReadWriter) error {
				for {
					msg, err := rw.ReadMsg()
					if err != nil {
						return err
					}
					data, err := io.ReadAll(msg.Payload)
					if err != nil {
						return err
					}
					echo := p2p.Msg{Code: msg.Code, Size: uint32(len(data)), Payload: bytes.NewReader(data)}
					if err := rw.WriteMsg(echo); err != nil {
						return err
					}
				}
			},
		})
	}
	return protocols, nil
}

func runP2PServerDisc(args []string) error {
	fs := flag.NewFlagSet("p2pserver-disc", flag.ContinueOnError)
	keyHex := fs.String("key", "", "secp256k1 secret (hex); random if empty")
	name := fs.String("name", "geth-disc", "client name in Hello")
	maxPeers := fs.Int("maxpeers", 10, "MaxPeers")
	boot := fs.String("bootnodes", "", "comma-separated enode:// or enr: bootnodes")
	noDial := fs.Bool("nodial", false, "NoDial: discovery and inbound only")
	protos := fs.String("protos", "echo/1/2", "protocols name/version/length")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key, err := crypto.GenerateKey()
	if *keyHex != "" {
		key, err = crypto.HexToECDSA(*keyHex)
	}
	if err != nil {
		return err
	}
	protocols, err := echoProtocols(*protos)
	if err != nil {
		return err
	}
	var bootnodes []*enode.Node
	if *boot != "" {
		for _, s := range strings.Split(*boot, ",") {
			n, err := enode.Parse(enode.ValidSchemes, s)
			if err != nil {
				return fmt.Errorf("bootnode %q: %w", s, err)
			}
			bootnodes = append(bootnodes, n)
		}
	}
	srv := &p2p.Server{Config: p2p.Config{
		PrivateKey:     key,
		Name:           *name,
		MaxPeers:       *maxPeers,
		ListenAddr:     "127.0.0.1:0",
		NoDiscovery:    false,
		DiscoveryV4:    true,
		BootstrapNodes: bootnodes,
		NoDial:         *noDial,
		Protocols:      protocols,
	}}
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Stop()
	events := make(chan *p2p.PeerEvent, 256)
	sub := srv.SubscribeEvents(events)
	defer sub.Unsubscribe()
	go func() {
		for ev := range events {
			if ev.Type == p2p.PeerEventTypeAdd || ev.Type == p2p.PeerEventTypeDrop {
				emit(map[string]any{"event": string(ev.Type), "peer": ev.Peer.String(), "error": ev.Error,
					"remote": ev.RemoteAddress})
			}
		}
	}()
	self := srv.Self()
	emit(map[string]any{"event": "ready", "enode": self.URLv4(), "enr": self.String(), "id": self.ID().String(),
		"tcp": self.TCP(), "udp": self.UDP()})

	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c struct {
			Cmd string `json:"cmd"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			emit(map[string]any{"event": "error", "error": err.Error()})
			continue
		}
		reply := map[string]any{"event": c.Cmd}
		switch c.Cmd {
		case "peers":
			list := []map[string]any{}
			for _, p := range srv.Peers() {
				list = append(list, map[string]any{"id": p.ID().String(), "name": p.Name(), "inbound": p.Inbound()})
			}
			reply["peers"] = list
		case "table":
			ids := []string{}
			if d := srv.DiscoveryV4(); d != nil {
				for _, b := range d.TableBuckets() {
					for _, n := range b {
						ids = append(ids, n.Node.ID().String())
					}
				}
			}
			reply["nodes"] = ids
		default:
			reply["error"] = "unknown command"
		}
		emit(reply)
	}
	return sc.Err()
}
