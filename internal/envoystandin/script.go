package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// envErrorExit is the exit code for a malformed STANDIN_* variable. It is deliberately
// unlike any code Envoy uses, so a broken test setup is never mistaken for an Envoy exit.
const envErrorExit = 97

// step is one entry of a timed sequence such as STANDIN_READY_SEQUENCE.
type step struct {
	value string
	hold  time.Duration
}

// sequence is a list of values, each held for its duration; the last one holds forever.
type sequence []step

// at returns the value in force after elapsed time.
func (q sequence) at(elapsed time.Duration) string {
	for i, s := range q {
		if i == len(q)-1 || elapsed < s.hold {
			return s.value
		}
		elapsed -= s.hold
	}
	return ""
}

// script is everything the STANDIN_* environment asks for. It is read once at start and
// never changes, so handlers can read it without locking.
type script struct {
	exitCode      int
	exitCodeSet   bool
	lifetime      time.Duration
	lifetimeSet   bool
	exitSignal    syscall.Signal
	ready         sequence
	readyFile     string
	readyBody     string
	readyBodySet  bool
	connected     sequence
	promFile      string
	statsFile     string
	delay         time.Duration
	delayPaths    map[string]time.Duration
	statusPaths   map[string]int
	garbageAll    bool
	garbagePaths  map[string]bool
	resetPaths    map[string]bool          // close the connection without an answer
	hugePaths     map[string]int64         // answer 200 with this many bytes of filler
	dripPaths     map[string]time.Duration // answer 200 one line per interval, forever
	dripStall     time.Duration            // >0: the drip stops after this long, the answer stays open
	ignoreSigterm bool
	termDelay     time.Duration
	termExitCode  int
	downstreamCx  uint64
	drainCxAfter  time.Duration
	drainCxSet    bool
	orphan        time.Duration // 0: no orphan
	orphanStdio   bool
	orphanSetsid  bool
	stdoutLines   int
	stderrLines   int
	lineInterval  time.Duration
	listenerFail  bool
	version       string
	record        string
	recordSkip    map[string]bool
	recordEnv     []string
}

const defaultVersion = "0000000000000000000000000000000000000000/1.40.0/Clean/RELEASE/BoringSSL"

// envReader collects the first error so parseScript reads like a list of variables.
type envReader struct {
	lookup func(string) (string, bool)
	err    error
}

func (r *envReader) fail(name, val string, err error) {
	if r.err == nil {
		r.err = fmt.Errorf("invalid %s=%q: %v", name, val, err)
	}
}

func (r *envReader) str(name string) (string, bool) {
	v, ok := r.lookup(name)
	return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
}

func (r *envReader) duration(name string) (time.Duration, bool) {
	v, ok := r.str(name)
	if !ok {
		return 0, false
	}
	d, err := parseDuration(v)
	if err != nil {
		r.fail(name, v, err)
		return 0, false
	}
	return d, true
}

func (r *envReader) integer(name string, min, max int) (int, bool) {
	v, ok := r.str(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err == nil && (n < min || n > max) {
		err = fmt.Errorf("out of range [%d, %d]", min, max)
	}
	if err != nil {
		r.fail(name, v, err)
		return 0, false
	}
	return n, true
}

func (r *envReader) boolean(name string) bool {
	v, ok := r.str(name)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, v, err)
	}
	return b
}

func (r *envReader) list(name string) []string {
	v, ok := r.str(name)
	if !ok {
		return nil
	}
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseDuration accepts Go durations and bare numbers of seconds ("2" = 2s), because test
// authors write both.
func parseDuration(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 || f > 1e9 {
			return 0, fmt.Errorf("out of range")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err == nil && d < 0 {
		err = fmt.Errorf("negative duration")
	}
	return d, err
}

// parseSequence reads "A:200ms,B:1s,C". A value's hold time follows its last colon; the
// last item needs none.
func parseSequence(v string) (sequence, error) {
	var q sequence
	items := strings.Split(v, ",")
	for i, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("empty item")
		}
		s := step{value: item}
		if c := strings.LastIndexByte(item, ':'); c >= 0 {
			d, err := parseDuration(item[c+1:])
			if err != nil {
				return nil, fmt.Errorf("item %q: %v", item, err)
			}
			s = step{value: strings.TrimSpace(item[:c]), hold: d}
		} else if i != len(items)-1 {
			return nil, fmt.Errorf("item %q needs a duration (VALUE:DURATION)", item)
		}
		q = append(q, s)
	}
	return q, nil
}

// parsePathMap reads "/ready:2s,/stats:300ms" style lists, splitting at the last colon.
func parsePathMap(v string, parse func(string) error) error {
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		c := strings.LastIndexByte(item, ':')
		if c <= 0 || !strings.HasPrefix(item, "/") {
			return fmt.Errorf("item %q is not /path:value", item)
		}
		if err := parse(item); err != nil {
			return err
		}
	}
	return nil
}

func parseScript(lookup func(string) (string, bool)) (*script, error) {
	r := &envReader{lookup: lookup}
	sc := &script{
		ready:        sequence{{value: "LIVE"}},
		connected:    sequence{{value: "1"}},
		delayPaths:   map[string]time.Duration{},
		statusPaths:  map[string]int{},
		garbagePaths: map[string]bool{},
		resetPaths:   map[string]bool{},
		hugePaths:    map[string]int64{},
		dripPaths:    map[string]time.Duration{},
		recordSkip:   map[string]bool{},
		version:      defaultVersion,
	}
	sc.exitCode, sc.exitCodeSet = r.integer("STANDIN_EXIT_CODE", 0, 255)
	sc.lifetime, sc.lifetimeSet = r.duration("STANDIN_LIFETIME")
	if v, ok := r.str("STANDIN_EXIT_SIGNAL"); ok {
		sig, err := parseSignal(v)
		if err != nil {
			r.fail("STANDIN_EXIT_SIGNAL", v, err)
		}
		sc.exitSignal = sig
	}
	for _, name := range []string{"STANDIN_READY_SEQUENCE", "STANDIN_CONNECTED_STATE"} {
		v, ok := r.str(name)
		if !ok {
			continue
		}
		q, err := parseSequence(v)
		if err != nil {
			r.fail(name, v, err)
			continue
		}
		if name == "STANDIN_READY_SEQUENCE" {
			sc.ready = q
		} else {
			sc.connected = q
		}
	}
	sc.readyFile, _ = r.str("STANDIN_READY_FILE")
	if v, ok := lookup("STANDIN_READY_BODY"); ok {
		// Not trimmed: odd whitespace is the point of this variable.
		sc.readyBody, sc.readyBodySet = v, true
	}
	sc.promFile, _ = r.str("STANDIN_PROM_FILE")
	sc.statsFile, _ = r.str("STANDIN_STATS_FILE")
	sc.delay, _ = r.duration("STANDIN_DELAY")
	if v, ok := r.str("STANDIN_DELAY_PATHS"); ok {
		err := parsePathMap(v, func(item string) error {
			c := strings.LastIndexByte(item, ':')
			d, err := parseDuration(item[c+1:])
			sc.delayPaths[item[:c]] = d
			return err
		})
		if err != nil {
			r.fail("STANDIN_DELAY_PATHS", v, err)
		}
	}
	if v, ok := r.str("STANDIN_STATUS_PATHS"); ok {
		err := parsePathMap(v, func(item string) error {
			c := strings.LastIndexByte(item, ':')
			code, err := strconv.Atoi(item[c+1:])
			if err == nil && (code < 100 || code > 599) {
				err = fmt.Errorf("status %d out of range", code)
			}
			sc.statusPaths[item[:c]] = code
			return err
		})
		if err != nil {
			r.fail("STANDIN_STATUS_PATHS", v, err)
		}
	}
	for _, p := range r.list("STANDIN_GARBAGE") {
		if b, err := strconv.ParseBool(p); err == nil {
			sc.garbageAll = sc.garbageAll || b
		} else {
			sc.garbagePaths[p] = true
		}
	}
	for _, p := range r.list("STANDIN_RESET_PATHS") {
		sc.resetPaths[p] = true
	}
	if v, ok := r.str("STANDIN_HUGE_PATHS"); ok {
		err := parsePathMap(v, func(item string) error {
			c := strings.LastIndexByte(item, ':')
			n, err := strconv.ParseInt(item[c+1:], 10, 64)
			if err == nil && n <= 0 {
				err = fmt.Errorf("size %d is not positive", n)
			}
			sc.hugePaths[item[:c]] = n
			return err
		})
		if err != nil {
			r.fail("STANDIN_HUGE_PATHS", v, err)
		}
	}
	if v, ok := r.str("STANDIN_DRIP_PATHS"); ok {
		err := parsePathMap(v, func(item string) error {
			c := strings.LastIndexByte(item, ':')
			d, err := parseDuration(item[c+1:])
			if err == nil && d <= 0 {
				err = fmt.Errorf("interval %s is not positive", d)
			}
			sc.dripPaths[item[:c]] = d
			return err
		})
		if err != nil {
			r.fail("STANDIN_DRIP_PATHS", v, err)
		}
	}
	sc.dripStall, _ = r.duration("STANDIN_DRIP_STALL_AFTER")
	sc.ignoreSigterm = r.boolean("STANDIN_IGNORE_SIGTERM")
	sc.termDelay, _ = r.duration("STANDIN_TERM_DELAY")
	sc.termExitCode, _ = r.integer("STANDIN_TERM_EXIT_CODE", 0, 255)
	if n, ok := r.integer("STANDIN_DOWNSTREAM_CX", 0, 1<<30); ok {
		sc.downstreamCx = uint64(n)
	}
	sc.drainCxAfter, sc.drainCxSet = r.duration("STANDIN_DRAIN_CX_AFTER")
	if v, ok := r.str("STANDIN_SPAWN_ORPHAN"); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			if b {
				sc.orphan = time.Second
			}
		} else if d, err := parseDuration(v); err == nil && d > 0 {
			sc.orphan = d
		} else {
			r.fail("STANDIN_SPAWN_ORPHAN", v, fmt.Errorf("want a boolean or a positive duration"))
		}
	}
	sc.orphanStdio = r.boolean("STANDIN_ORPHAN_INHERIT_STDIO")
	sc.orphanSetsid = r.boolean("STANDIN_ORPHAN_SETSID")
	sc.stdoutLines, _ = r.integer("STANDIN_STDOUT_LINES", 0, 1<<30)
	sc.stderrLines, _ = r.integer("STANDIN_STDERR_LINES", 0, 1<<30)
	sc.lineInterval, _ = r.duration("STANDIN_LINE_INTERVAL")
	sc.listenerFail = r.boolean("STANDIN_LISTENER_FAILED")
	if v, ok := r.str("STANDIN_VERSION"); ok {
		sc.version = v
	}
	sc.record, _ = r.str("STANDIN_RECORD")
	for _, p := range r.list("STANDIN_RECORD_SKIP") {
		sc.recordSkip[p] = true
	}
	sc.recordEnv = r.list("STANDIN_RECORD_ENV")
	return sc, r.err
}

// signalNames maps the spellings tests use to signals; "SIGSEGV", "SEGV", "segv" and "11"
// are all accepted.
var signalNames = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "ILL": syscall.SIGILL,
	"TRAP": syscall.SIGTRAP, "ABRT": syscall.SIGABRT, "BUS": syscall.SIGBUS, "FPE": syscall.SIGFPE,
	"KILL": syscall.SIGKILL, "USR1": syscall.SIGUSR1, "SEGV": syscall.SIGSEGV, "USR2": syscall.SIGUSR2,
	"PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM, "TERM": syscall.SIGTERM,
}

func parseSignal(v string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 || n >= 65 {
			return 0, fmt.Errorf("signal number out of range")
		}
		return syscall.Signal(n), nil
	}
	name := strings.TrimPrefix(strings.ToUpper(v), "SIG")
	if sig, ok := signalNames[name]; ok {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal")
}

// readSmallFile returns a file's content, bounded so a mistaken path (a device, a huge log)
// cannot stall a handler.
func readSmallFile(path string, limit int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit))
	return string(b), err
}
