package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv/record"
)

func main() {
	args := os.Args[1:]
	if len(args) == 2 && args[0] == "--orphan-sleep" {
		os.Exit(orphanSleep(args[1]))
	}
	if len(args) == 2 && args[0] == "--hang-listen" {
		os.Exit(hangListen(args[1]))
	}
	// Catch signals first: a supervisor may signal a stand-in that is still starting.
	sigCh := subscribeSignals()
	s := &standin{start: time.Now(), log: newEnvoyLog(os.Stderr, "info", nil)}

	sc, err := parseScript(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "envoy-standin: %v\n", err)
		os.Exit(envErrorExit)
	}
	s.sc = sc
	if s.rec, err = openRecorder(sc.record); err != nil {
		fmt.Fprintf(os.Stderr, "envoy-standin: STANDIN_RECORD: %v\n", err)
		os.Exit(envErrorExit)
	}
	if s.rec.enabled() {
		s.rec.write(startEvent(s.start, os.Args, sc.recordEnv))
	}

	opts, err := parseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		fmt.Fprint(os.Stderr, usageText)
		s.exit(1, "usage")
	}
	s.opts = opts
	switch {
	case opts.help:
		fmt.Print(usageText)
		s.exit(0, "help")
	case opts.version:
		// TCLAP's exact layout: a blank line, "envoy  version: ...", a blank line.
		fmt.Printf("\nenvoy  version: %s\n\n", sc.version)
		s.exit(0, "version")
	}
	if err := s.setupLog(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		s.exit(1, "log_path")
	}
	s.startServer()
	s.signalLoop(sigCh)
}

func (s *standin) setupLog() error {
	var out io.Writer = os.Stderr
	if s.opts.logPath != "" {
		f, err := os.OpenFile(s.opts.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("unable to open log file %s: %v", s.opts.logPath, err)
		}
		out = f
	}
	s.log = newEnvoyLog(out, s.opts.logLevel, s.opts.componentLevels)
	s.log.pattern, s.log.escape = s.opts.logFormat, s.opts.logFormatEscaped
	return nil
}

// startServer reads the bootstrap, binds admin and starts the script, logging what Envoy
// logs at each step. Failures exit 1, as Envoy's configuration errors do.
func (s *standin) startServer() {
	o := s.opts
	s.log.logf("main", "info", "initializing epoch %d (base id=%d, hot restart version=disabled)", o.restartEpoch, o.baseID)
	boot, err := loadBootstrap(o)
	if err != nil {
		s.log.logf("main", "critical", "error initializing configuration '%s': %v", o.configPath, err)
		s.exit(1, "bootstrap")
	}
	s.boot = boot
	if o.mode == "validate" {
		fmt.Printf("configuration '%s' OK\n", o.configPath)
		s.exit(0, "validate")
	}
	s.log.logf("main", "info", "statically linked extensions: none (envoy-standin)")
	if boot.adminNetwork == "" {
		s.log.logf("main", "info", "No admin address given, so no admin HTTP server started.")
	} else {
		ln, err := listenAdmin(boot)
		if err != nil {
			s.log.logf("main", "critical", "error initializing configuration '%s': cannot bind '%s': %v", o.configPath, boot.adminAddress, err)
			s.exit(1, "admin_bind")
		}
		// Report the address as the bootstrap wrote it, with the real port when it was 0.
		s.adminListening = boot.adminAddress
		if a, ok := ln.Addr().(*net.TCPAddr); ok {
			host, _, _ := net.SplitHostPort(boot.adminAddress)
			s.adminListening = joinHostPort(host, uint64(a.Port))
		}
		s.log.logf("main", "info", "admin address: %s", s.adminListening)
		if o.adminAddressPath != "" {
			_ = os.WriteFile(o.adminAddressPath, []byte(s.adminListening), 0o644)
		}
		go s.serveAdmin(ln)
		s.rec.write(record.Event{Event: "admin_listening", Network: boot.adminNetwork, Address: s.adminListening})
	}
	if o.mode == "init_only" {
		s.exit(0, "init_only")
	}
	s.startListeners()
	s.log.logf("main", "info", "starting main dispatch loop")
	s.log.logf("upstream", "info", "all clusters initialized. initializing init manager")
	s.log.logf("config", "info", "all dependencies initialized. starting workers")
	s.runScript()
}
