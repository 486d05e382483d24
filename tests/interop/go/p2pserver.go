package main

// p2pserver: a go-ethereum p2p.Server driven over stdin/stdout, for the devp2p
// server interop tests.
//
// args:   -key <hex secret> -name <client name> -maxpeers N -protos "echo/1/2,echo/2/3,other/1/4"
//         (each protocol is name/version/length; every one echoes what it receives)
// stdout: JSON lines. First {"event":"ready","enode":...,"port":N}; then
//         {"event":"add"|"drop","peer":id,"error":...} from the server's event feed,
//         {"event":"recv","peer":id,"proto":"echo/2","code":c,"payload":hex} for each
//         protocol message (echoed back with the same code),
//         and one reply per command.
// stdin:  JSON lines {"cmd": ...}:
//         add_peer/remove_peer/add_trusted {"enode"}; peers {};
//         drop {"id", "reason"}; send {"id","proto","code","payload"};
//         setup_conn {"enode"} (dial with srv.SetupConn and report its error);
//         node_info {} / peers_info {} (srv.NodeInfo() / srv.PeersInfo() as "info").

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
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
)

func init() {
	register("p2pserver", "go-ethereum p2p.Server with echo protocols, driven by JSON lines", runP2PServer)
}

type p2pOut struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (o *p2pOut) emit(v map[string]any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_ = o.enc.Encode(v)
}

type p2pCmd struct {
	Cmd     string `json:"cmd"`
	Enode   string `json:"enode"`
	ID      string `json:"id"`
	Reason  int    `json:"reason"`
	Proto   string `json:"proto"`
	Code    uint64 `json:"code"`
	Payload string `json:"payload"`
}

type rwKey struct {
	peer  enode.ID
	proto string
}

func runP2PServer(args []string) error {
	fs := flag.NewFlagSet("p2pserver", flag.ContinueOnError)
	keyHex := fs.String("key", "", "secp256k1 secret (hex); random if empty")
	name := fs.String("name", "geth-harness", "client name in Hello")
	maxPeers := fs.Int("maxpeers", 10, "MaxPeers")
	protos := fs.String("protos", "echo/1/2,echo/2/3,other/1/4", "protocols name/version/length")
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
	out := &p2pOut{enc: json.NewEncoder(os.Stdout)}
	var rwsMu sync.Mutex
	rws := map[rwKey]p2p.MsgReadWriter{}

	var protocols []p2p.Protocol
	var specs []string
	if *protos != "" {
		specs = strings.Split(*protos, ",")
	}
	for _, spec := range specs {
		parts := strings.Split(spec, "/")
		if len(parts) != 3 {
			return fmt.Errorf("bad protocol spec %q", spec)
		}
		version, _ := strconv.Atoi(parts[1])
		length, _ := strconv.Atoi(parts[2])
		label := parts[0] + "/" + parts[1]
		protocols = append(protocols, p2p.Protocol{
			Name:    parts[0],
			Version: uint(version),
			Length:  uint64(length),
			Run: func(peer *p2p.Peer, rw p2p.MsgReadWriter) error {
				k := rwKey{peer.ID(), parts[0]}
				rwsMu.Lock()
				rws[k] = rw
				rwsMu.Unlock()
				defer func() {
					rwsMu.Lock()
					delete(rws, k)
					rwsMu.Unlock()
				}()
				for {
					msg, err := rw.ReadMsg()
					if err != nil {
						return err
					}
					data, err := io.ReadAll(msg.Payload)
					if err != nil {
						return err
					}
					out.emit(map[string]any{"event": "recv", "peer": peer.ID().String(), "proto": label,
						"code": msg.Code, "payload": hex.EncodeToString(data)})
					if err := rw.WriteMsg(p2p.Msg{Code: msg.Code, Size: uint32(len(data)), Payload: strings.NewReader(string(data))}); err != nil {
						return err
					}
				}
			},
		})
	}
	srv := &p2p.Server{Config: p2p.Config{
		PrivateKey:  key,
		Name:        *name,
		MaxPeers:    *maxPeers,
		ListenAddr:  "127.0.0.1:0",
		NoDiscovery: true,
		Protocols:   protocols,
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
				out.emit(map[string]any{"event": string(ev.Type), "peer": ev.Peer.String(), "error": ev.Error,
					"remote": ev.RemoteAddress})
			}
		}
	}()
	self := srv.Self()
	out.emit(map[string]any{"event": "ready", "enode": self.URLv4(), "port": self.TCP(), "id": self.ID().String()})

	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c p2pCmd
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			out.emit(map[string]any{"event": "error", "error": err.Error()})
			continue
		}
		reply := map[string]any{"event": c.Cmd}
		switch c.Cmd {
		case "add_peer", "remove_peer", "add_trusted", "setup_conn":
			n, err := enode.ParseV4(c.Enode)
			if err != nil {
				reply["error"] = err.Error()
				break
			}
			switch c.Cmd {
			case "add_peer":
				srv.AddPeer(n)
			case "remove_peer":
				srv.RemovePeer(n)
			case "add_trusted":
				srv.AddTrustedPeer(n)
			case "setup_conn":
				fd, err := net.DialTimeout("tcp", fmt.Sprintf("%v:%d", n.IP(), n.TCP()), 5*time.Second)
				if err != nil {
					reply["error"] = err.Error()
					break
				}
				err = srv.SetupConn(fd, 0, n)
				reply["error"] = ""
				if err != nil {
					reply["error"] = err.Error()
					var r p2p.DiscReason
					if errors.As(err, &r) {
						reply["reason"] = uint(r)
					}
				}
			}
		case "peers":
			var list []map[string]any
			for _, p := range srv.Peers() {
				var caps []string
				for _, c := range p.Caps() {
					caps = append(caps, c.String())
				}
				info := p.Info()
				list = append(list, map[string]any{"id": p.ID().String(), "name": p.Name(), "caps": caps,
					"inbound": p.Inbound(), "trusted": info.Network.Trusted, "static": info.Network.Static})
			}
			reply["peers"] = list
		case "node_info":
			reply["info"] = srv.NodeInfo()
		case "peers_info":
			reply["info"] = srv.PeersInfo()
		case "drop":
			for _, p := range srv.Peers() {
				if p.ID().String() == c.ID {
					p.Disconnect(p2p.DiscReason(c.Reason))
				}
			}
		case "send":
			var id enode.ID
			if b, err := hex.DecodeString(c.ID); err == nil {
				copy(id[:], b)
			}
			// The add event can come before the protocol's Run has started: wait for it.
			var rw p2p.MsgReadWriter
			for deadline := time.Now().Add(5 * time.Second); rw == nil && time.Now().Before(deadline); {
				rwsMu.Lock()
				rw = rws[rwKey{id, c.Proto}]
				rwsMu.Unlock()
				if rw == nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
			payload, _ := hex.DecodeString(c.Payload)
			if rw == nil {
				reply["error"] = "no such peer/protocol"
			} else if err := rw.WriteMsg(p2p.Msg{Code: c.Code, Size: uint32(len(payload)), Payload: strings.NewReader(string(payload))}); err != nil {
				reply["error"] = err.Error()
			}
		default:
			reply["error"] = "unknown command"
		}
		out.emit(reply)
	}
	return sc.Err()
}
