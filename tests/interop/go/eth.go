package main

// eth: go-ethereum's view of a genesis file, for peerwire.eth's genesis hashing
// and fork IDs (core.Genesis.ToBlock, forkid.NewID).

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/forkid"
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
