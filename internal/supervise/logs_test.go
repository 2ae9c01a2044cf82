package supervise

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/logfile"
)

// TestLogRotationBurst pipes a burst of Envoy output on both streams, with the agent's own log
// lines, into one rotated log file through many rotations, and finds every line, whole and in
// order per stream.
func TestLogRotationBurst(t *testing.T) {
	const n = 20000
	dir := t.TempDir()
	w, err := logfile.Open(dir, "appnet_envoy.log", 32<<10, logfile.MaxKeep)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	h := newHarness(t, "STANDIN_STDOUT_LINES="+strconv.Itoa(n), "STANDIN_STDERR_LINES="+strconv.Itoa(n), "STANDIN_LIFETIME=1s")
	h.opts.Stdout, h.opts.Stderr = w, w
	h.opts.Logger = hclog.New(&hclog.LoggerOptions{Output: w, Level: hclog.Debug})
	h.opts.RestartCount = 1
	h.opts.BackoffInitial = -1
	h.run()
	if code := h.wait(60 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	files := 0
	next := map[string]int{"": 1, "stderr ": 1}
	re := regexp.MustCompile(`^(stderr )?line (\d+)$`)
	read := func(path string) {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		defer f.Close()
		files++
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			l := sc.Text()
			m := re.FindStringSubmatch(l)
			if m == nil {
				if len(l) == 0 || (l[0] != '[' && l[0] != '2') { // Envoy's "[date]" or hclog's "2026-..."
					t.Fatalf("torn line %q in %s", l, path)
				}
				continue
			}
			i, _ := strconv.Atoi(m[2])
			if i == 1 && next[m[1]] == n+1 {
				next[m[1]] = 1 // the second Envoy starts over
			}
			if i != next[m[1]] {
				t.Fatalf("%q: got line %d, want %d", m[1], i, next[m[1]])
			}
			next[m[1]]++
		}
	}
	for k := logfile.MaxKeep; k >= 1; k-- {
		read(filepath.Join(dir, "appnet_envoy.log."+strconv.Itoa(k)))
	}
	read(w.Path())
	for stream, v := range next {
		if v != n+1 {
			t.Errorf("stream %q ended at line %d, want %d", stream, v-1, n)
		}
	}
	if files < 20 {
		t.Errorf("only %d files: not enough rotations to test", files)
	}
	if s := h.events("start"); len(s) != 2 {
		t.Errorf("%d starts", len(s))
	}
	t.Logf("4×%d Envoy lines plus agent lines over %d files, none lost", n, files)
}
