package logging

import (
	"io"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// The JSON sink against hclog's own JSONFormat for a typical agent line (docs/DESIGN.md,
// "Logging").
func BenchmarkJSONSink(b *testing.B) {
	log := NewFormat(io.Discard, "info", FormatJSON)
	b.ReportAllocs()
	for b.Loop() {
		log.Info("Envoy process exited", "pid", 4321, "status", "exited with code 0", "ran", 85*time.Millisecond)
	}
}

func BenchmarkHclogJSONFormat(b *testing.B) {
	log := hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Info, JSONFormat: true, TimeFormat: JSONTimeFormat})
	b.ReportAllocs()
	for b.Loop() {
		log.Info("Envoy process exited", "pid", 4321, "status", "exited with code 0", "ran", 85*time.Millisecond)
	}
}
