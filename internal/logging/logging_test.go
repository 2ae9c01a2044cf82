package logging

import (
	"bytes"
	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere
	"regexp"
	"testing"
)

func TestReferenceLineFormat(t *testing.T) {
	var b bytes.Buffer
	log := New(&b, "info")
	log.Debug("hidden")
	log.Warn("Envoy exited", "code", 3)
	want := regexp.MustCompile(`^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]\[warn\] \[AppNet Agent\] Envoy exited code=3\n$`)
	if !want.Match(b.Bytes()) {
		t.Fatalf("line %q", b.String())
	}
}

func TestLevels(t *testing.T) {
	for in, want := range map[string]string{"warning": "WARN", "critical": "ERROR", "trace": "TRACE", "off": "OFF", "": "INFO"} {
		if got := Level(in).String(); !bytes.EqualFold([]byte(got), []byte(want)) {
			t.Errorf("%q → %s, want %s", in, got, want)
		}
	}
}
