package main

// eth: go-ethereum's view of a genesis file, for peerwire.eth's genesis hashing
// and fork IDs (core.Genesis.ToBlock, forkid.NewID).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/forkid"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth/protocols/eth"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
)

func init() {
	register("genesis-hash", "FILE [HEAD TIME]: print geth's genesis hash, header RLP and fork ID for a genesis.json", runGenesisHash)
}

func runGenesisHash(args []string) error {
	if len(args) != 1 && len(args) != 3 {
		return fmt.Errorf("usage: genesis-hash FILE [HEAD TIME]")
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var g core.Genesis
	if err := json.Unmarshal(data, &g); err != nil {
		return err
	}
	block := g.ToBlock()
	head, time := uint64(0), block.Time()
	if len(args) == 3 {
		if head, err = strconv.ParseUint(args[1], 10, 64); err != nil {
			return err
		}
		if time, err = strconv.ParseUint(args[2], 10, 64); err != nil {
			return err
		}
	}
	hdr, err := rlp.EncodeToBytes(block.Header())
	if err != nil {
		return err
	}
	id := forkid.NewID(g.Config, block, head, time)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"hash":      block.Hash().Hex()[2:],
		"header":    fmt.Sprintf("%x", hdr),
		"fork_hash": fmt.Sprintf("%x", id.Hash[:]),
		"fork_next": id.Next,
	})
}

func init() {
	register("eth-packets", "print geth's RLP of sample eth/69-72 packets (JSON name -> hex)", runEthPackets)
}

func runEthPackets(args []string) error {
	h1 := common.HexToHash("0x1111111111111111111111111111111111111111111111111111111111111111")
	h2 := common.HexToHash("0x2222222222222222222222222222222222222222222222222222222222222222")
	fid := forkid.ID{Hash: [4]byte{0xde, 0xad, 0xbe, 0xef}, Next: 42}
	packets := map[string]any{
		"status72": &eth.StatusPacket{ProtocolVersion: 72, NetworkID: 1337, Genesis: h1, ForkID: fid,
			EarliestBlock: 0, LatestBlock: 5, LatestBlockHash: h2},
		"get_headers_number": &eth.GetBlockHeadersPacket{RequestId: 7, GetBlockHeadersRequest: &eth.GetBlockHeadersRequest{
			Origin: eth.HashOrNumber{Number: 9}, Amount: 3, Skip: 1, Reverse: true}},
		"get_headers_hash": &eth.GetBlockHeadersPacket{RequestId: 1 << 40, GetBlockHeadersRequest: &eth.GetBlockHeadersRequest{
			Origin: eth.HashOrNumber{Hash: h1}, Amount: 1}},
		"block_range":      &eth.BlockRangeUpdatePacket{EarliestBlock: 1, LatestBlock: 100, LatestBlockHash: h2},
		"get_bodies":       &eth.GetBlockBodiesPacket{RequestId: 5, GetBlockBodiesRequest: eth.GetBlockBodiesRequest{h1, h2}},
		"get_receipts70":   &eth.GetReceiptsPacket70{RequestId: 8, FirstBlockReceiptIndex: 2, GetReceiptsRequest: eth.GetReceiptsRequest{h1}},
		"receipts70_empty": &eth.ReceiptsPacket70{RequestId: 8},
		"bodies_empty":     &eth.BlockBodiesPacket{RequestId: 5},
		"announce71": &eth.NewPooledTransactionHashesPacket71{Types: []byte{2, 3}, Sizes: []uint32{100, 70000},
			Hashes: []common.Hash{h1, h2}},
		"announce72": &eth.NewPooledTransactionHashesPacket72{Types: []byte{3}, Sizes: []uint32{131072},
			Hashes: []common.Hash{h2}, Mask: types.CustodyBitmap{0x01, 0x80}},
		"enr_entry": []any{fid},
		"get_cells": &eth.GetCellsRequestPacket{RequestId: 3, GetCellsRequest: eth.GetCellsRequest{
			Hashes: []common.Hash{h1}, Mask: types.CustodyBitmap{0xff}}},
		"cells_empty": &eth.CellsPacket{RequestId: 3, CellsResponse: eth.CellsResponse{Mask: types.CustodyBitmap{0xff}}},
	}
	out := map[string]string{}
	for name, p := range packets {
		b, err := rlp.EncodeToBytes(p)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out[name] = fmt.Sprintf("%x", b)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func init() {
	register("preset-forkids", "NAME: read [[head,time],...] on stdin; print geth's genesis hash, chain ID and fork IDs for mainnet|sepolia|hoodi", runPresetForkIDs)
}

func runPresetForkIDs(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: preset-forkids mainnet|sepolia|hoodi")
	}
	var g *core.Genesis
	switch args[0] {
	case "mainnet":
		g = core.DefaultGenesisBlock()
	case "sepolia":
		g = core.DefaultSepoliaGenesisBlock()
	case "hoodi":
		g = core.DefaultHoodiGenesisBlock()
	default:
		return fmt.Errorf("unknown chain %q", args[0])
	}
	var points [][2]uint64
	if err := json.NewDecoder(os.Stdin).Decode(&points); err != nil {
		return err
	}
	block := g.ToBlock()
	ids := make([][2]any, 0, len(points))
	for _, p := range points {
		id := forkid.NewID(g.Config, block, p[0], p[1])
		ids = append(ids, [2]any{fmt.Sprintf("%x", id.Hash[:]), id.Next})
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"hash":     block.Hash().Hex()[2:],
		"chain_id": g.Config.ChainID.Uint64(),
		"time":     block.Time(),
		"ids":      ids,
	})
}

func init() {
	register("eth-node-filter", "GENESIS HEAD TIME: read enr: lines on stdin; print geth's eth node-filter verdict per line (JSON list)", runEthNodeFilter)
}

// filterChain is the forkid.Blockchain view of a genesis file at a given head.
type filterChain struct {
	g     *core.Genesis
	block *types.Block
	head  *types.Header
}

func (c filterChain) Config() *params.ChainConfig  { return c.g.Config }
func (c filterChain) Genesis() *types.Block        { return c.block }
func (c filterChain) CurrentHeader() *types.Header { return c.head }

// ethEntry mirrors eth/protocols/eth.enrEntry (unexported there): the fork ID plus a tail.
type ethEntry struct {
	ForkID forkid.ID
	Rest   []rlp.RawValue `rlp:"tail"`
}

func (ethEntry) ENRKey() string { return "eth" }

func runEthNodeFilter(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: eth-node-filter GENESIS HEAD TIME")
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var g core.Genesis
	if err := json.Unmarshal(data, &g); err != nil {
		return err
	}
	head, err := strconv.ParseUint(args[1], 10, 64)
	if err != nil {
		return err
	}
	time, err := strconv.ParseUint(args[2], 10, 64)
	if err != nil {
		return err
	}
	chain := filterChain{g: &g, block: g.ToBlock(), head: &types.Header{Number: new(big.Int).SetUint64(head), Time: time}}
	filter := forkid.NewFilter(chain)
	// eth.NewNodeFilter: load the entry, then the fork filter.
	keep := func(n *enode.Node) bool {
		var entry ethEntry
		if err := n.Load(&entry); err != nil {
			return false
		}
		return filter(entry.ForkID) == nil
	}
	var verdicts []bool
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		n, err := enode.Parse(enode.ValidSchemes, line)
		if err != nil {
			return fmt.Errorf("parse %q: %w", line, err)
		}
		verdicts = append(verdicts, keep(n))
	}
	return json.NewEncoder(os.Stdout).Encode(verdicts)
}
