package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv/record"
)

// exit records the exit and ends the process. Only the first caller wins; any later caller
// blocks until the process is gone, so no code runs after an exit decision.
func (s *standin) exit(code int, reason string) {
	s.exitOnce.Do(func() {
		s.rec.write(record.Event{Event: "exit", Code: &code, Reason: reason})
		s.log.logf("main", "info", "exiting")
		os.Exit(code)
	})
	select {}
}

// die records the exit and ends the process by sig's default action.
func (s *standin) die(sig syscall.Signal, reason string) {
	s.exitOnce.Do(func() {
		byKill := -1
		s.rec.write(record.Event{Event: "exit", Code: &byKill, Signal: sig.String(), Signo: int(sig), Reason: reason})
		dieBySignal(sig, s.opts != nil && s.opts.enableCoreDump)
		// Only reached if the signal could not be delivered.
		time.Sleep(2 * time.Second)
		os.Exit(128 + int(sig))
	})
	select {}
}

// handledSignals are those Envoy handles itself or that kill it; the stand-in catches all
// of them to record them, then behaves as Envoy would.
var handledSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1,
	syscall.SIGUSR2, syscall.SIGQUIT, syscall.SIGABRT, syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGFPE,
	syscall.SIGILL}

func subscribeSignals() chan os.Signal {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, handledSignals...)
	// Envoy ignores SIGPIPE: a closed stdout pipe must not kill it.
	signal.Ignore(syscall.SIGPIPE)
	return ch
}

func signalName(sig syscall.Signal) string {
	for name, v := range signalNames {
		if v == sig {
			return "SIG" + name
		}
	}
	return strconv.Itoa(int(sig))
}

func (s *standin) signalLoop(ch chan os.Signal) {
	for v := range ch {
		sig, ok := v.(syscall.Signal)
		if ok {
			s.onSignal(sig)
		}
	}
}

func (s *standin) onSignal(sig syscall.Signal) {
	s.rec.write(record.Event{Event: "signal", Signal: sig.String(), Name: signalName(sig), Signo: int(sig)})
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT:
		s.log.logf("main", "warning", "caught %s", signalName(sig))
		if s.sc.ignoreSigterm {
			s.log.logf("main", "warning", "envoy-standin: ignoring %s (STANDIN_IGNORE_SIGTERM)", signalName(sig))
			return
		}
		s.mu.Lock()
		already := s.shuttingDown
		s.shuttingDown = true
		s.mu.Unlock()
		if already {
			return
		}
		go func() {
			time.Sleep(s.sc.termDelay)
			s.log.logf("main", "info", "shutting down server instance")
			s.log.logf("main", "info", "main dispatch loop exited")
			s.exit(s.sc.termExitCode, "signal")
		}()
	case syscall.SIGHUP:
		s.log.logf("main", "warning", "caught and eating SIGHUP. See documentation for how to hot restart.")
	case syscall.SIGUSR1:
		s.log.logf("main", "info", "caught SIGUSR1, reopening access logs")
	case syscall.SIGUSR2, syscall.SIGQUIT:
		s.die(sig, "signal") // Envoy has no handler: the default action ends it
	default:
		s.log.logf("backtrace", "critical", "Caught %s, suspect faulting address 0x0", sig.String())
		s.die(sig, "signal")
	}
}

// runScript starts the time-based parts of the script: scripted exit, orphan, output lines.
func (s *standin) runScript() {
	sc := s.sc
	if sc.lifetimeSet || sc.exitCodeSet || sc.exitSignal != 0 {
		time.AfterFunc(max(0, sc.lifetime-time.Since(s.start)), func() {
			if sc.exitSignal != 0 {
				s.die(sc.exitSignal, "lifetime")
			}
			s.exit(sc.exitCode, "lifetime")
		})
	}
	if sc.orphan > 0 {
		pid, err := spawnOrphan(sc.orphan, sc.orphanStdio, sc.orphanSetsid)
		if err != nil {
			s.log.logf("main", "error", "envoy-standin: cannot spawn orphan: %v", err)
		} else {
			s.rec.write(record.Event{Event: "orphan", ChildPid: pid})
		}
	}
	if sc.stdoutLines > 0 {
		go s.writeLines(os.Stdout, "stdout", "", sc.stdoutLines)
	}
	if sc.stderrLines > 0 {
		go s.writeLines(os.Stderr, "stderr", "stderr ", sc.stderrLines)
	}
}

// writeLines prints "line 1" … "line n". Lines are batched below PIPE_BUF and never split
// across writes, so when stdout and stderr share a file no line is torn by the other.
func (s *standin) writeLines(w io.Writer, stream, prefix string, n int) {
	buf := make([]byte, 0, 4096)
	flush := func() {
		if len(buf) > 0 {
			_, _ = w.Write(buf)
			buf = buf[:0]
		}
	}
	for i := 1; i <= n; i++ {
		line := prefix + "line " + strconv.Itoa(i) + "\n"
		if len(buf)+len(line) > 4000 {
			flush()
		}
		buf = append(buf, line...)
		if s.sc.lineInterval > 0 {
			flush()
			time.Sleep(s.sc.lineInterval)
		}
	}
	flush()
	s.rec.write(record.Event{Event: "lines_done", Stream: stream, Lines: n})
}

// spawnOrphan starts a child that outlives the stand-in (it is never waited for), so a
// supervisor's reaping can be tested. It is this binary in its hidden --orphan-sleep mode.
// With setsid it starts a session of its own, leaving the stand-in's process group.
func spawnOrphan(d time.Duration, inheritStdio, setsid bool) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	files := []*os.File{os.Stdin, os.Stdout, os.Stderr}
	if !inheritStdio {
		// Without this the orphan would hold the supervisor's output pipe open.
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return 0, err
		}
		defer null.Close()
		files = []*os.File{null, null, null}
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STANDIN_") {
			env = append(env, kv)
		}
	}
	attr := &os.ProcAttr{Files: files, Env: env}
	if setsid {
		attr.Sys = &syscall.SysProcAttr{Setsid: true}
	}
	p, err := os.StartProcess(exe, []string{exe, "--orphan-sleep", d.String()}, attr)
	if err != nil {
		return 0, err
	}
	pid := p.Pid
	_ = p.Release()
	return pid, nil
}

// orphanSleep is the hidden mode used by spawnOrphan.
func orphanSleep(arg string) int {
	d, err := parseDuration(arg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "envoy-standin: --orphan-sleep: %v\n", err)
		return 1
	}
	time.Sleep(d)
	return 0
}
