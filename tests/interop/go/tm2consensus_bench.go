package main

// tm2-consensus-decode-bench: gno's own consensus-message decoding (decodeMsg's
// amino.Unmarshal into ConsensusMessage + ValidateBasic, as the consensus
// reactor's Receive does), over hex messages read from stdin, one per line.
// stdout: {"messages": n, "rounds": r, "best_per_s": f, "mean_per_s": f}

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gnolang/gno/tm2/pkg/amino"
	"github.com/gnolang/gno/tm2/pkg/bft/consensus"
)

func init() {
	register("tm2-consensus-decode-bench", "gno amino decode + ValidateBasic rate of consensus messages from stdin (hex lines, JSON)", runTM2ConsensusDecodeBench)
}

func runTM2ConsensusDecodeBench(args []string) error {
	fs := flag.NewFlagSet("tm2-consensus-decode-bench", flag.ContinueOnError)
	rounds := fs.Int("rounds", 5, "rounds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var msgs [][]byte
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 4<<20), 4<<20)
	for sc.Scan() {
		b, err := hex.DecodeString(sc.Text())
		if err != nil {
			return err
		}
		msgs = append(msgs, b)
	}
	if len(msgs) == 0 {
		return fmt.Errorf("no messages on stdin")
	}
	best, sum := 0.0, 0.0
	for r := 0; r < *rounds; r++ {
		start := time.Now()
		for _, b := range msgs {
			var msg consensus.ConsensusMessage
			if err := amino.Unmarshal(b, &msg); err != nil {
				return err
			}
			if err := msg.ValidateBasic(); err != nil {
				return err
			}
		}
		rate := float64(len(msgs)) / time.Since(start).Seconds()
		sum += rate
		if rate > best {
			best = rate
		}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"messages": len(msgs), "rounds": *rounds, "best_per_s": best, "mean_per_s": sum / float64(*rounds),
	})
}
