package promtext

import (
	"bytes"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// BenchmarkFilterParseOnly100k is the filter's own work on the all-extension body, read
// from memory: the part of BenchmarkFilterMetricsExtension100k that is the agent's, without
// the in-process fake Envoy sharing the CPU.
func BenchmarkFilterParseOnly100k(b *testing.B) {
	body := testenv.PromBody(100_000, 1)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		ft, err := FilterExtension(bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := ft.chunks(); err != nil {
			b.Fatal(err)
		}
	}
}
