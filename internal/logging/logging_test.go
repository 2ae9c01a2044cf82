package logging

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	_ "github.com/appnet/appnet-agent/internal/testflag" // defines -update, so `go test ./... -update` runs everywhere
)

func TestReferenceLineFormat(t *testing.T) {
	var b bytes.Buffer
	log := New(&b, "info")
	log.Debug("hidden")
	log.Warn("Envoy exited", "code", 3)
	want := regexp.MustCompile(`^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]\[warning\] \[AppNet Agent\] Envoy exited code=3\n$`)
	if !want.Match(b.Bytes()) {
		t.Fatalf("line %q", b.String())
	}
}

func TestLevels(t *testing.T) {
	for in, want := range map[string]string{"warning": "WARN", "critical": "ERROR", "trace": "TRACE", "off": "ERROR", "": "INFO"} {
		if got := Level(in).String(); !bytes.EqualFold([]byte(got), []byte(want)) {
			t.Errorf("%q → %s, want %s", in, got, want)
		}
	}
}

func TestMultiLineMessagesArePrefixedPerLine(t *testing.T) {
	var b bytes.Buffer
	New(&b, "info").Error("bootstrap invalid:\na: bad\nb: worse")
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %q", b.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "][error] [AppNet Agent] ") {
			t.Errorf("line without prefix: %q", l)
		}
	}
}

func TestTimestampsAreUTC(t *testing.T) {
	t.Setenv("TZ", "America/New_York")
	var b bytes.Buffer
	New(&b, "info").Info("x")
	now := time.Now().UTC().Format("2006-01-02 15")
	if !strings.Contains(b.String(), "["+now) {
		t.Fatalf("line %q is not in UTC (%s)", b.String(), now)
	}
}

// Issue 7, "Logs keep their values": fields print exactly what was logged.
func TestFieldsKeepTheirValues(t *testing.T) {
	cases := []struct {
		args []any
		want string
	}{
		{[]any{"limit", 1048576}, " limit=1048576"},
		{[]any{"n", int64(9223372036854775807)}, " n=9223372036854775807"},
		{[]any{"u", uint64(18446744073709551615)}, " u=18446744073709551615"},
		{[]any{"ratio", 0.1}, " ratio=0.1"},
		{[]any{"wait", 1500 * time.Millisecond}, " wait=1.5s"},
		{[]any{"error", errors.New("dial tcp 127.0.0.1:9901: connect: connection refused")}, ` error="dial tcp 127.0.0.1:9901: connect: connection refused"`},
		{[]any{"problems", "a: bad\nb: worse"}, ` problems="a: bad\nb: worse"`},
		{[]any{"empty", ""}, ` empty=""`},
		{[]any{"eq", "a=b"}, ` eq="a=b"`},
		{[]any{"ok", true, "path", "/tmp/x.yaml"}, " ok=true path=/tmp/x.yaml"},
		{[]any{"odd"}, " EXTRA_VALUE_AT_END=odd"},
		{[]any{"fmt", hclog.Fmt("%d%%", 5)}, " fmt=5%"},
	}
	for _, tc := range cases {
		var b bytes.Buffer
		New(&b, "info").Info("m", tc.args...)
		line := b.String()
		if !strings.HasSuffix(line, "] [AppNet Agent] m"+tc.want+"\n") || strings.Count(line, "\n") != 1 {
			t.Errorf("args %v: line %q, want it to end with %q", tc.args, line, tc.want)
		}
	}
}

func TestImpliedArgumentsComeFirst(t *testing.T) {
	var b bytes.Buffer
	New(&b, "debug").With("component", "health").Named("x").Debug("polled", "state", "LIVE")
	if !strings.HasSuffix(b.String(), "[debug] [AppNet Agent] polled component=health state=LIVE\n") {
		t.Fatalf("line %q", b.String())
	}
}

func TestStandardLoggerGoesThroughTheSink(t *testing.T) {
	var b bytes.Buffer
	New(&b, "debug").StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug}).Print("http: TLS handshake error")
	if !strings.Contains(b.String(), "[debug] [AppNet Agent] http: TLS handshake error") {
		t.Fatalf("line %q", b.String())
	}
	b.Reset()
	New(&b, "info").StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug}).Print("hidden")
	if b.Len() != 0 {
		t.Fatalf("debug line at info level: %q", b.String())
	}
}
