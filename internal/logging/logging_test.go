package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
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

// Issue 21: APPNET_LOG_FORMAT=json writes one JSON object per call, with typed fields.
func TestJSONLines(t *testing.T) {
	var b bytes.Buffer
	log := NewFormat(&b, "info", FormatJSON).With("component", "supervisor")
	log.Debug("hidden")
	log.Warn("Envoy exited\nwith a second line", "code", 3, "signal", int64(math.MaxInt64), "ratio", 0.5,
		"ok", false, "after", 1500*time.Millisecond, "error", errors.New("boom <&>"), "code", 4, "odd")
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one line, got %q", b.String())
	}
	var got struct {
		Time    string                     `json:"time"`
		Level   string                     `json:"level"`
		Logger  string                     `json:"logger"`
		PID     int                        `json:"pid"`
		Message string                     `json:"message"`
		Fields  map[string]json.RawMessage `json:"fields"`
	}
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v in %s", err, lines[0])
	}
	if _, err := time.Parse(time.RFC3339, got.Time); err != nil || !regexp.MustCompile(`\.\d{3}Z$`).MatchString(got.Time) {
		t.Errorf("time %q: want RFC 3339 with milliseconds in UTC (%v)", got.Time, err)
	}
	if got.Level != "warning" || got.Logger != "appnet-agent" || got.PID != os.Getpid() || got.Message != "Envoy exited\nwith a second line" {
		t.Errorf("got %+v", got)
	}
	want := map[string]string{"component": `"supervisor"`, "code": "4", "signal": "9223372036854775807", "ratio": "0.5",
		"ok": "false", "after": `"1.5s"`, "error": `"boom <&>"`, "EXTRA_VALUE_AT_END": `"odd"`}
	for k, v := range want {
		if string(got.Fields[k]) != v {
			t.Errorf("field %s = %s, want %s", k, got.Fields[k], v)
		}
	}
	if i, j := strings.Index(lines[0], `"component"`), strings.Index(lines[0], `"code"`); i < 0 || j < i {
		t.Errorf("fields out of call order: %s", lines[0])
	}
	if len(got.Fields) != len(want) {
		t.Errorf("fields %v, want %v", got.Fields, want)
	}
}

func TestJSONWithoutFieldsAndTextFallback(t *testing.T) {
	var b bytes.Buffer
	NewFormat(&b, "debug", FormatJSON).Debug("x")
	if strings.Contains(b.String(), "fields") || !json.Valid(b.Bytes()) {
		t.Errorf("line %q", b.String())
	}
	b.Reset()
	NewFormat(&b, "info", FormatText).Info("y")
	if !strings.Contains(b.String(), "][info] [AppNet Agent] y") {
		t.Errorf("text format: %q", b.String())
	}
}
