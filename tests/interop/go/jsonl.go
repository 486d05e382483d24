package main

import (
	"encoding/json"
	"os"
	"sync"
)

// stdoutMu keeps JSON lines from concurrent goroutines whole on stdout.
var stdoutMu sync.Mutex

// emit writes v as one JSON line on stdout: the harness's event channel to pytest.
func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"event": "error", "error": err.Error()})
	}
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	_, _ = os.Stdout.Write(append(b, '\n'))
}
