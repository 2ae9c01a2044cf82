package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/envoyadmin"
	"github.com/appnet/appnet-agent/internal/logfile"
	"github.com/appnet/appnet-agent/internal/logging"
	"github.com/appnet/appnet-agent/internal/render"
	"github.com/appnet/appnet-agent/internal/supervise"
)

// runFlags are the reference agent's flags; Go's flag package accepts -x and --x alike.
type runFlags struct {
	configPath, logLevel string
	readiness            bool
}

func parseRunFlags(args []string, stderr io.Writer) (runFlags, error) {
	var f runFlags
	fs := flag.NewFlagSet("appnet-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.configPath, "envoyConfigPath", "", "bootstrap path (overrides ENVOY_CONFIG_FILE)")
	fs.StringVar(&f.logLevel, "logLevel", "", "Envoy and agent log level (overrides ENVOY_LOG_LEVEL)")
	fs.BoolVar(&f.readiness, "envoyReadiness", false, "probe the agent's /status until Envoy is HEALTHY, then exit 0 (exit 1 on timeout)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments %q (Envoy's command line is built from the environment)", fs.Args())
	}
	return f, nil
}

// cmdRun renders the bootstrap, then starts and supervises Envoy until it is gone for good or a
// shutdown signal has drained it. sigs was subscribed as main's first action.
func cmdRun(args []string, sigs chan os.Signal, stderr io.Writer) int {
	started := time.Now()
	reaper, reapErr := supervise.StartReaper(nil)
	if reaper != nil {
		defer reaper.Stop()
	}
	flags, err := parseRunFlags(args, stderr)
	if err != nil {
		return 2
	}
	src := env.Overlay(os.LookupEnv, map[string]string{"ENVOY_CONFIG_FILE": flags.configPath, "ENVOY_LOG_LEVEL": flags.logLevel})
	cfg, warnings, err := env.Load(src, env.Options{})
	if err != nil {
		return fail(stderr, err)
	}
	var out io.Writer = stderr
	logFile, err := logfile.FromConfig(cfg.Logging)
	if err != nil {
		return fail(stderr, err)
	}
	if logFile != nil {
		defer logFile.Close()
		out = logFile
	}
	log := logging.New(out, cfg.Agent.LogLevel)
	for _, w := range warnings {
		log.Warn(w)
	}
	if reapErr != nil {
		log.Warn("orphaned processes will not be reaped", "error", reapErr)
	}
	if flags.readiness {
		return runReadiness(cfg, log)
	}
	ctx := context.Background()
	path, err := bootstrapPath(cfg)
	if err != nil {
		log.Error(err.Error())
		return 1
	}
	res, err := render.Render(ctx, cfg, render.Options{})
	if err != nil {
		log.Error("cannot create the Envoy bootstrap: " + err.Error())
		return 1
	}
	for _, w := range res.Warnings {
		log.Warn(w)
	}
	if err := render.Write(res, path); err != nil {
		log.Error(err.Error())
		return 1
	}
	log.Info("bootstrap ready", "path", path, "existing", res.Existing, "elapsed", time.Since(started).Round(time.Microsecond).String())

	opts := supervise.OptionsFromConfig(cfg, path, supervise.Concurrency(cfg, "", log))
	admin := envoyadmin.New(adminTarget(res.Bootstrap.GetAdmin().GetAddress()))
	defer admin.Close()
	opts.Signals, opts.Reaper, opts.Admin, opts.Logger, opts.AgentStarted = sigs, reaper, admin, log, started
	if logFile != nil {
		opts.Stdout, opts.Stderr = logFile, logFile
	}
	return supervise.New(opts).Run(ctx)
}

// bootstrapPath is ENVOY_CONFIG_FILE, or a new private file in TMPDIR like the reference agent's.
func bootstrapPath(cfg *env.Config) (string, error) {
	if cfg.Mode.ConfigFile != "" {
		return cfg.Mode.ConfigFile, nil
	}
	f, err := os.CreateTemp(cfg.Mode.TempDir, "envoy-config-*.yaml")
	if err != nil {
		return "", fmt.Errorf("TMPDIR: cannot create the bootstrap file: %w", err)
	}
	return f.Name(), f.Close()
}

// adminTarget is where the validated bootstrap puts Envoy's admin API, so the agent always talks to
// the Envoy it configured (also for an existing ENVOY_CONFIG_FILE and in relay mode).
func adminTarget(a *corev3.Address) envoyadmin.Target {
	if p := a.GetPipe(); p != nil {
		return envoyadmin.UDS(p.GetPath())
	}
	return envoyadmin.TCP(uint16(a.GetSocketAddress().GetPortValue()))
}

// runReadiness is the -envoyReadiness probe (R6), served by the management API.
func runReadiness(cfg *env.Config, log interface{ Error(string, ...any) }) int {
	log.Error("-envoyReadiness needs the management API, which this build does not have yet")
	return 1
}
