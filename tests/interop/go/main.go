// Command peerwire-interop is the Go side of peerwire's interop tests: it runs
// the real go-ethereum and gno code as a peer that pytest drives over
// 127.0.0.1, stdin and stdout. One binary, one subcommand per role.
package main

import (
	"fmt"
	"os"
	"sort"
)

// A subcommand reads its arguments and runs to completion or until killed.
type subcommand struct {
	help string
	run  func(args []string) error
}

var subcommands = map[string]subcommand{}

func register(name, help string, run func(args []string) error) {
	subcommands[name] = subcommand{help: help, run: run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: peerwire-interop <subcommand> [args]")
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-22s %s\n", n, subcommands[n].help)
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	sc, ok := subcommands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown subcommand %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := sc.run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
