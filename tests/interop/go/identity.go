package main

// identity: Go's answer for node IDs, enode URLs and TM2 IDs of given keys.
//
// stdin:  {"secp256k1": ["<32-byte hex>", ...], "ed25519_seeds": ["<32-byte hex>", ...],
//          "tm2_secrets": ["node-a", ...]}
// stdout: {"secp256k1": [{"public": hex64, "node_id": hex, "enode": url}, ...],
//          "ed25519": [{"seed": hex, "public": hex, "go_private": hex64, "id": "g1..", "node_key_json": "..."}]}

import (
	"encoding/hex"
	"encoding/json"
	"net"
	"os"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/gnolang/gno/tm2/pkg/amino"
	"github.com/gnolang/gno/tm2/pkg/crypto/ed25519"
	"github.com/gnolang/gno/tm2/pkg/p2p/types"
	stded25519 "golang.org/x/crypto/ed25519"
)

type identityIn struct {
	Secp256k1    []string `json:"secp256k1"`
	Ed25519Seeds []string `json:"ed25519_seeds"`
	TM2Secrets   []string `json:"tm2_secrets"`
}

type secpOut struct {
	Public string `json:"public"`
	NodeID string `json:"node_id"`
	Enode  string `json:"enode"`
}

type edOut struct {
	Seed        string `json:"seed"`
	Public      string `json:"public"`
	GoPrivate   string `json:"go_private"`
	ID          string `json:"id"`
	NodeKeyJSON string `json:"node_key_json"`
}

func init() {
	register("identity", "node IDs / enode URLs / TM2 IDs of keys given on stdin (JSON)", runIdentity)
}

func edEntry(priv ed25519.PrivKeyEd25519) (edOut, error) {
	nk := types.NodeKey{PrivKey: priv}
	js, err := amino.MarshalJSONIndent(&nk, "", "  ")
	if err != nil {
		return edOut{}, err
	}
	pub := priv.PubKey().(ed25519.PubKeyEd25519)
	return edOut{
		Seed:        hex.EncodeToString(priv[:32]),
		Public:      hex.EncodeToString(pub[:]),
		GoPrivate:   hex.EncodeToString(priv[:]),
		ID:          string(nk.ID()),
		NodeKeyJSON: string(js),
	}, nil
}

func runIdentity(_ []string) error {
	var in identityIn
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		return err
	}
	out := struct {
		Secp256k1 []secpOut `json:"secp256k1"`
		Ed25519   []edOut   `json:"ed25519"`
	}{Secp256k1: []secpOut{}, Ed25519: []edOut{}}
	for _, h := range in.Secp256k1 {
		key, err := crypto.HexToECDSA(h)
		if err != nil {
			return err
		}
		n := enode.NewV4(&key.PublicKey, net.ParseIP("127.0.0.1"), 30303, 30301)
		out.Secp256k1 = append(out.Secp256k1, secpOut{
			Public: hex.EncodeToString(crypto.FromECDSAPub(&key.PublicKey)[1:]),
			NodeID: n.ID().String(),
			Enode:  n.URLv4(),
		})
	}
	for _, h := range in.Ed25519Seeds {
		seed, err := hex.DecodeString(h)
		if err != nil {
			return err
		}
		var priv ed25519.PrivKeyEd25519
		copy(priv[:], stded25519.NewKeyFromSeed(seed))
		e, err := edEntry(priv)
		if err != nil {
			return err
		}
		out.Ed25519 = append(out.Ed25519, e)
	}
	for _, s := range in.TM2Secrets {
		e, err := edEntry(ed25519.GenPrivKeyFromSecret([]byte(s)))
		if err != nil {
			return err
		}
		out.Ed25519 = append(out.Ed25519, e)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
