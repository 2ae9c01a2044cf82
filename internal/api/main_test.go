package api

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestMain removes the end-to-end binaries and fails the run if any goroutine outlives the
// tests (every Service, poller and server must have stopped).
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveBuilds()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
